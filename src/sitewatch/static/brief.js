(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("sitewatch-data").textContent);
  var maps = {}, layers = {};
  function esc(s) { var d = document.createElement("div"); d.textContent = s == null ? "" : String(s); return d.innerHTML; }
  function num(v, unit, digits) {
    if (v === null || v === undefined || v === "") return "–";
    var n = Number(v); return isNaN(n) ? esc(v) : n.toLocaleString("en", {maximumFractionDigits: digits || 0}) + (unit || "");
  }
  function plain(v) {
    // Evidence may be a sentence or a mapping of named measurements; show either as text.
    if (v === null || v === undefined) return "";
    if (typeof v !== "object") return String(v);
    if (Array.isArray(v)) return v.map(plain).join(", ");
    return Object.keys(v).map(function (k) {
      var x = v[k];
      return k.replace(/_/g, " ") + " " + (typeof x === "number" ? num(x, "", 2) : plain(x));
    }).join(" · ");
  }
  function styleFor(p, selected) {
    var c = data.colours[p.change_type] || data.colours.other;
    return {color: c, weight: selected ? 4 : 2, fillColor: c, fillOpacity: selected ? 0.55 : 0.3};
  }
  var box = document.getElementById("lightbox");
  function closeLightbox() { box.hidden = true; box.querySelector(".content").innerHTML = ""; }
  function openLightbox(aoi, id) {
    // The alert's quicklook and time-lapse at full size, over the page; Escape or a click outside closes it.
    var site = data.sites[aoi]; if (!site) return;
    var ql = site.quicklooks[String(id)], tl = (site.timelapses || {})[String(id)];
    var html = "";
    if (ql) html += "<figure><img class='full quicklook' alt='quicklook of " + esc(id) + "' src='" + ql + "'><figcaption>quicklook</figcaption></figure>";
    if (tl) html += "<figure><img class='full timelapse' alt='time-lapse of " + esc(id) + "' src='" + tl + "'><figcaption>time-lapse: every clear date around the change</figcaption></figure>";
    if (!html) html = "<p class='note'>No picture for this alert.</p>";
    box.querySelector(".content").innerHTML = html;
    box.hidden = false;
    box.querySelector("button.close").focus();
  }
  box.addEventListener("click", function (ev) { if (ev.target === box || ev.target.classList.contains("close")) closeLightbox(); });
  document.addEventListener("keydown", function (ev) { if (ev.key === "Escape" && !box.hidden) closeLightbox(); });
  function select(aoi, id) {
    var site = data.sites[aoi]; if (!site) return;
    var feat = site.features.find(function (f) { return String(f.properties.id) === String(id); });
    if (!feat) return;
    var p = feat.properties;
    document.querySelectorAll("#alerts-" + aoi + " li.alert").forEach(function (li) {
      li.classList.toggle("selected", li.dataset.alert === String(id));
    });
    Object.keys(layers[aoi] || {}).forEach(function (k) {
      layers[aoi][k].setStyle(styleFor(layers[aoi][k].feature.properties, k === String(id)));
    });
    var lyr = (layers[aoi] || {})[String(id)];
    if (lyr && maps[aoi]) { maps[aoi].fitBounds(lyr.getBounds(), {maxZoom: 16, padding: [30, 30]}); lyr.bringToFront(); }
    var ql = site.quicklooks[String(id)];
    var rows = [["type", p.change_type], ["status", p.status], ["confidence", num(p.confidence, "", 2)],
      ["last unchanged", p.last_unchanged || "?"], ["first detected", p.first_detected],
      ["area", num(p.area_m2, " m²")], ["length × width", num(p.length_m, " m") + " × " + num(p.width_m, " m")],
      ["orientation", num(p.orientation_deg, "°")], ["evidence", plain(p.evidence)], ["detail", p.detail]];
    var parts = p.confidence_parts || {};
    var cp = Object.keys(parts).map(function (k) { return esc(k) + " " + num(parts[k], "", 2); }).join(", ");
    if (cp) rows.push(["confidence parts", cp]);
    var radar = (site.radar || {})[String(id)];
    if (radar) {
      rows.push(["radar (Sentinel-1)", (p.source === "sar" ? "seen by Sentinel-1 only; " : "") + radar]);
      var sar = (p.corroboration || {}).sar || {};
      if (sar.rule) rows.push(["radar rule", sar.rule]);
      (sar.notes || []).forEach(function (n) { rows.push(["radar note", n]); });
    }
    (p.claims || []).forEach(function (c) { rows.push(["claim (" + c.verdict + ")", "“" + (c.quote || "") + "” " + (c.source || "")]); });
    var html = "<h4>" + esc(p.id) + "</h4>";
    html += ql ? "<img class='quicklook' tabindex='0' role='button' title='full size, with the time-lapse' alt='quicklook of " + esc(p.id) + "' src='" + ql + "'>"
               : "<p class='note'>No quicklook for this alert.</p>";
    if (ql || (site.timelapses || {})[String(id)]) html += "<p><button type='button' class='enlarge'>full size" + ((site.timelapses || {})[String(id)] ? " + time-lapse" : "") + "</button></p>";
    html += "<table>" + rows.map(function (r) {
      return "<tr><th>" + esc(r[0]) + "</th><td>" + (r[0] === "confidence parts" ? r[1] : esc(r[1])) + "</td></tr>";
    }).join("") + "</table>";
    var detail = document.getElementById("detail-" + aoi);
    detail.innerHTML = html; detail.hidden = false;
    detail.querySelectorAll("img.quicklook, button.enlarge").forEach(function (el) {
      el.addEventListener("click", function () { openLightbox(aoi, id); });
      el.addEventListener("keydown", function (ev) { if (ev.key === "Enter") openLightbox(aoi, id); });
    });
  }
  function imageryLayers(aoi, map, site) {
    // Before and after composites under the polygons, with a switch and an opacity slider.
    var img = site.imagery || {}, base = {}, first = null;
    if (!img.before && !img.after) return null;
    map.createPane("imagery"); map.getPane("imagery").style.zIndex = 350;
    var overlays = {};
    ["before", "after"].forEach(function (k) {
      if (!img[k]) return;
      var label = k + " (" + (img[k].start || "?") + " to " + (img[k].end || "?") + ")";
      overlays[k] = L.imageOverlay(img[k].uri, img[k].bounds, {pane: "imagery", opacity: 1, className: "imagery-" + k,
        attribution: site.simulated ? "SIMULATED imagery" : "Contains modified Copernicus Sentinel data"});
      base[label] = overlays[k]; first = overlays[k];
    });
    base["no imagery"] = L.layerGroup();
    first.addTo(map);
    var control = L.control.layers(base, null, {collapsed: false}).addTo(map);
    var Opacity = L.Control.extend({
      onAdd: function () {
        var div = L.DomUtil.create("div", "leaflet-bar opacity-control");
        div.innerHTML = "<label>imagery opacity <input type='range' min='0' max='100' value='100' aria-label='imagery opacity'></label>";
        L.DomEvent.disableClickPropagation(div);
        div.querySelector("input").addEventListener("input", function (ev) {
          var v = Number(ev.target.value) / 100;
          Object.keys(overlays).forEach(function (k) { overlays[k].setOpacity(v); });
        });
        return div;
      }
    });
    new Opacity({position: "bottomright"}).addTo(map);
    return {overlays: overlays, control: control, bounds: L.latLngBounds(first.getBounds())};
  }
  Object.keys(data.sites).forEach(function (aoi) {
    var site = data.sites[aoi], el = document.getElementById("map-" + aoi);
    if (!el) return;
    var map = L.map(el, {zoomSnap: 0.25, attributionControl: true});
    maps[aoi] = map; layers[aoi] = {};
    map.attributionControl.setPrefix("Leaflet");
    var bounds = null;
    var imagery = imageryLayers(aoi, map, site);
    if (imagery) { bounds = imagery.bounds; }
    if (site.aoi) {
      var outline = L.geoJSON(site.aoi, {style: {color: "#333", weight: 1.5, dashArray: "5 4", fill: false}}).addTo(map);
      bounds = bounds ? bounds.extend(outline.getBounds()) : outline.getBounds();
    }
    var alerts = L.geoJSON({type: "FeatureCollection", features: site.features}, {
      style: function (f) { return styleFor(f.properties, false); },
      onEachFeature: function (f, lyr) {
        layers[aoi][String(f.properties.id)] = lyr;
        lyr.bindTooltip(esc(f.properties.change_type) + " · " + esc(f.properties.first_detected));
        lyr.on("click", function () { select(aoi, f.properties.id); openLightbox(aoi, f.properties.id); });
      }
    }).addTo(map);
    if (site.features.length) { var b = alerts.getBounds(); bounds = bounds ? bounds.extend(b) : b; }
    if (bounds && bounds.isValid()) { map.fitBounds(bounds, {padding: [15, 15]}); } else { map.setView([0, 0], 2); }
    L.control.scale({imperial: false}).addTo(map);
    if (data.tiles) {
      var tiles = L.tileLayer(data.tiles, {maxZoom: 18, attribution: data.tilesAttribution || ""});
      L.control.layers(null, {"imagery (online)": tiles}, {collapsed: false}).addTo(map);
    }
  });
  document.querySelectorAll("li.alert").forEach(function (li) {
    li.addEventListener("click", function () { select(li.dataset.aoi, li.dataset.alert); });
    li.addEventListener("keydown", function (ev) { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); select(li.dataset.aoi, li.dataset.alert); } });
  });
  window.sitewatchBrief = {select: select, maps: maps, layers: layers, openLightbox: openLightbox, closeLightbox: closeLightbox};
})();
