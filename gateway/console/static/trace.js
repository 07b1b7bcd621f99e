// The fund-flow Sankey (issue #19): the page gives the flow in <script type="application/json" id="trace-data">
// (accounts as nodes, money between them as links, in fen and formatted in yuan); ECharts draws it on a canvas.
// Nothing inline: the tooltip renders as rich text in the canvas, not as HTML with style attributes (the CSP).
(function () {
  "use strict";
  function draw() {
    var holder = document.getElementById("trace-chart");
    var source = document.getElementById("trace-data");
    if (!holder || !source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var labels = {};
    data.nodes.forEach(function (node) { labels[node.name] = node.label; });
    var yuan = document.documentElement.lang === "en" ? " yuan" : " 元";
    var chart = window.echarts.init(holder, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      tooltip: {
        trigger: "item",
        renderMode: "richText",
        formatter: function (p) {
          if (p.dataType === "edge") {
            return labels[p.data.source] + " → " + labels[p.data.target] + "\n" + p.data.yuan + yuan;
          }
          return labels[p.name] || p.name;
        }
      },
      series: [{
        type: "sankey",
        left: 8, right: 200, top: 28, bottom: 16, nodeGap: 18,
        nodeAlign: "left",
        draggable: false,
        emphasis: { focus: "adjacency" },
        data: data.nodes.map(function (node) { return { name: node.name }; }),
        links: data.links.map(function (link) {
          return { source: link.source, target: link.target, value: link.value, yuan: link.yuan };
        }),
        label: { position: "top", align: "left", formatter: function (p) { return labels[p.name] || p.name; },
                 color: "#1a1a1a" },
        edgeLabel: { show: true, color: "#1a1a1a", formatter: function (p) { return p.data.yuan + yuan; } },
        lineStyle: { color: "source", opacity: 0.35 },
        itemStyle: { borderColor: "#4a4a4a" }
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.addEventListener("DOMContentLoaded", draw);
})();
