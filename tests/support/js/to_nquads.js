// Independent parsers for cross-checking ddsnode's representations:
// jsonld.js (JSON-LD 1.1, Digital Bazaar) and N3.js (Turtle, N-Triples).
//   node to_nquads.js < items.json
// stdin: a JSON array of {format: "json-ld"|"turtle"|"n-triples", body, base};
// stdout: a JSON array of {nquads} or {error}, in the same order. Contexts are served
// from CONTEXTS (a JSON file mapping IRI -> document) or fetched from a loopback address
// (a node under test serves its own context); anything else is refused, as offline.
const fs = require("fs");
const jsonld = require("jsonld");
const N3 = require("n3");
const contexts = process.env.CONTEXTS ? JSON.parse(fs.readFileSync(process.env.CONTEXTS, "utf8")) : {};
const fetchLoopback = jsonld.documentLoaders.node();
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);
const documentLoader = async (url) => {
  if (url in contexts) return { contextUrl: null, documentUrl: url, document: contexts[url] };
  if (LOOPBACK.has(new URL(url).hostname)) return fetchLoopback(url);
  throw new Error("refusing to fetch " + url);
};

async function parse(item) {
  if (item.format === "json-ld") {
    return jsonld.toRDF(JSON.parse(item.body), { format: "application/n-quads", documentLoader, base: item.base });
  }
  const parser = new N3.Parser({ format: item.format === "turtle" ? "text/turtle" : "application/n-triples", baseIRI: item.base });
  const writer = new N3.Writer({ format: "N-Quads" });
  writer.addQuads(parser.parse(item.body));
  return new Promise((resolve, reject) => writer.end((err, out) => (err ? reject(err) : resolve(out))));
}

async function main() {
  const items = JSON.parse(fs.readFileSync(0, "utf8"));
  const out = [];
  for (const item of items) {
    try { out.push({ nquads: await parse(item) }); } catch (e) { out.push({ error: String(e) }); }
  }
  process.stdout.write(JSON.stringify(out));
}
main().catch((e) => { console.error(String(e)); process.exit(1); });
