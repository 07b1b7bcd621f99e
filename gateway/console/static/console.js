// The console's own script: small, no inline code anywhere (the Content-Security-Policy forbids it).
// Forms that say data-confirm ask first; elements with data-countdown show the days left until a date.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
  function countdowns() {
    var nodes = document.querySelectorAll("[data-countdown]");
    for (var i = 0; i < nodes.length; i++) {
      var end = new Date(nodes[i].getAttribute("data-countdown") + "T23:59:59+08:00");
      var days = Math.ceil((end - new Date()) / 86400000);
      var lang = document.documentElement.lang;
      nodes[i].textContent = days > 0 ? (lang === "en" ? days + " days left" : "剩余 " + days + " 天")
                                      : (lang === "en" ? "ended" : "已结束");
    }
  }
  document.addEventListener("DOMContentLoaded", countdowns);
})();
