// The finance desk's charts (issue #19 point 4): each element with data-chart="<id>" is drawn with ECharts from the
// <script type="application/json" id="<id>"> block the page carries: {unit: "yuan"|"percent", categories: [...],
// series: [{name, values: [...]}]}. Amounts arrive in fen (integers) and are shown in 元; growths arrive as
// fractions (0.1) and are shown as percentages. The table beside each chart holds the same rows, exactly.
// On a form the API refused, the first field it named gets the focus, so its rule is in view and read out.
(function () {
  "use strict";
  var COLOURS = ["#8b0000", "#1d4ed8", "#14532d", "#7c2d12"];

  function scaled(unit, value) {
    if (value === null || value === undefined) { return null; }
    return unit === "percent" ? Math.round(value * 1000) / 10 : value / 100;
  }

  function label(unit, value) {
    if (value === null || value === undefined) { return "—"; }
    if (unit === "percent") { return value.toFixed(1) + "%"; }
    return value.toLocaleString("zh-CN", {minimumFractionDigits: 2, maximumFractionDigits: 2});
  }

  function option(spec) {
    var many = spec.categories.length > 8;
    return {
      animation: false,
      color: COLOURS,
      textStyle: {fontFamily: "PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif"},
      // rich text in the canvas: an HTML tooltip carries style attributes, which the CSP refuses (a console error)
      tooltip: {trigger: "axis", renderMode: "richText", valueFormatter: function (v) { return label(spec.unit, v); }},
      legend: {top: 0},
      grid: {left: 16, right: 24, top: 40, bottom: 16, containLabel: true},
      xAxis: {type: "category", data: spec.categories, axisLabel: {rotate: many ? 30 : 0, interval: 0}},
      yAxis: {type: "value", axisLabel: {formatter: function (v) {
        return spec.unit === "percent" ? v + "%" : v.toLocaleString("zh-CN");
      }}},
      series: spec.series.map(function (s) {
        return {name: s.name, type: "bar", barMaxWidth: 48, data: s.values.map(function (v) { return scaled(spec.unit, v); })};
      })
    };
  }

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-chart"));
    if (!source || !window.echarts) { return; }
    var chart = window.echarts.init(element, null, {renderer: "canvas"});
    chart.setOption(option(JSON.parse(source.textContent)));
    element.setAttribute("data-drawn", "true");
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var charts = document.querySelectorAll("[data-chart]");
    for (var i = 0; i < charts.length; i++) { draw(charts[i]); }
    var refused = document.querySelector(".field.invalid input");
    if (refused) { refused.scrollIntoView({block: "center"}); refused.focus({preventScroll: true}); }
  });
})();
