// Independent parsers for cross-checking ddsnode's representations:
// jsonld.js (JSON-LD 1.1, Digital Bazaar) and N3.js (Turtle, N-Triples).
//   node to_nquads.js FORMAT < body    (FORMAT: json-ld | turtle | n-triples)
// Prints canonical-ish N-Quads, one per line. Remote contexts are served from CONTEXTS
// (a JSON file mapping IRI -> document), never fetched.
const fs = require("fs");
const format = process.argv[2];
const contexts = process.env.CONTEXTS ? JSON.parse(fs.readFileSync(process.env.CONTEXTS, "utf8")) : {};
const input = fs.readFileSync(0, "utf8");

async function main() {
  if (format === "json-ld") {
    const jsonld = require("jsonld");
    const documentLoader = async (url) => {
      if (url in contexts) return { contextUrl: null, documentUrl: url, document: contexts[url] };
      throw new Error("refusing to fetch " + url);
    };
    const nq = await jsonld.toRDF(JSON.parse(input), { format: "application/n-quads", documentLoader, base: process.env.BASE });
    process.stdout.write(nq);
  } else {
    const N3 = require("n3");
    const parser = new N3.Parser({ format: format === "turtle" ? "text/turtle" : "application/n-triples", baseIRI: process.env.BASE });
    const writer = new N3.Writer({ format: "N-Quads" });
    writer.addQuads(parser.parse(input));
    writer.end((err, out) => { if (err) throw err; process.stdout.write(out); });
  }
}
main().catch((e) => { console.error(String(e)); process.exit(1); });
