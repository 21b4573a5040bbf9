/* The explorer's maps with Leaflet: progressive enhancement, served by the node.

   A page's server-rendered SVG map (ddsnode/explorer/map.py) works without this script.
   When the operator sets explorer_map_leaflet, the map's figure carries its markers
   (data-dds-points: [[lat, long, title, path, count], ...], the same markers as the SVG:
   a result, or a cluster of count results whose path is the search in its area) and
   this script shows them on a Leaflet map instead, with no tile layer unless the
   operator set one (data-dds-tiles: explorer_map_leaflet's tile host, or the node's own
   /explore/tiles/ from explorer_map_pmtiles): by default no visitor is sent to a tile
   provider. Titles become text nodes, never HTML; a marker links only to a
   path on this node. The list of places under the map stays the text alternative. */
(function () {
  "use strict";
  if (!window.L) {
    return;
  }
  var figures = document.querySelectorAll("figure[data-dds-points]");
  Array.prototype.forEach.call(figures, function (figure) {
    var points;
    try {
      points = JSON.parse(figure.getAttribute("data-dds-points"));
    } catch (e) {
      return;
    }
    if (!Array.isArray(points) || !points.length) {
      return;
    }
    var holder = document.createElement("div");
    holder.className = "dds-leaflet";
    holder.setAttribute("role", "region");
    holder.setAttribute("aria-label", figure.getAttribute("data-dds-label") || "Map");
    figure.parentNode.insertBefore(holder, figure);
    var tiles = figure.getAttribute("data-dds-tiles") || "";
    // No fade: a popup is read (and checked for contrast) as soon as it opens.
    var map = L.map(holder, {attributionControl: !!tiles, zoomControl: false,
                             fadeAnimation: false});
    L.control.zoom({
      zoomInTitle: figure.getAttribute("data-dds-zoom-in") || "Zoom in",
      zoomOutTitle: figure.getAttribute("data-dds-zoom-out") || "Zoom out"
    }).addTo(map);
    if (tiles) {
      map.attributionControl.setPrefix(false);
      // Leaflet writes an attribution as HTML: the operator's text is escaped first.
      var escaped = document.createElement("span");
      escaped.textContent = figure.getAttribute("data-dds-attribution") || "";
      var options = {attribution: escaped.innerHTML, maxZoom: 19};
      // The node's own tiles (explorer_map_pmtiles): asked for only at the archive's
      // zoom levels and inside its bounds; past its last zoom its tiles are enlarged.
      var zooms = (figure.getAttribute("data-dds-tiles-zooms") || "").split(" ");
      if (zooms.length === 2 && isFinite(zooms[0]) && isFinite(zooms[1])) {
        options.minZoom = Number(zooms[0]);
        options.maxNativeZoom = Number(zooms[1]);
      }
      var box = (figure.getAttribute("data-dds-tiles-bounds") || "").split(",").map(Number);
      if (box.length === 4 && box.every(isFinite)) {
        options.bounds = [[box[0], box[1]], [box[2], box[3]]];
      }
      L.tileLayer(tiles, options).addTo(map);
    }
    var bounds = [];
    points.forEach(function (point) {
      var lat = Number(point[0]), long = Number(point[1]);
      var title = String(point[2]), path = String(point[3]);
      var count = Number(point[4]) || 1;
      if (!isFinite(lat) || !isFinite(long) || path.charAt(0) !== "/" ||
          path.charAt(1) === "/") {
        return;
      }
      var link = document.createElement("a");
      link.className = "govuk-link";
      link.href = path;
      link.textContent = title;
      // A cluster is bigger and darker, as on the SVG map; its link searches its area.
      L.circleMarker([lat, long], {
        radius: count > 1 ? Math.min(10 + 2 * Math.floor(Math.log2(count)), 22) : 7,
        color: "#ffffff", weight: 2, fillColor: count > 1 ? "#003078" : "#1d70b8",
        fillOpacity: 1
      }).bindPopup(link).addTo(map);
      bounds.push([lat, long]);
    });
    if (!bounds.length) {
      holder.parentNode.removeChild(holder);
      return;
    }
    map.fitBounds(bounds, {padding: [24, 24], maxZoom: 16});
    figure.hidden = true;
    holder.setAttribute("data-dds-markers", String(bounds.length));
  });
}());
