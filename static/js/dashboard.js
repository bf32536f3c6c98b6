/* Dashboard charts (data from the JSON in #dashboard-data) and the report's copy button. No inline JS. */
(function () {
  "use strict";

  function drawCharts(data, t) {
    if (typeof Chart === "undefined") return;
    var months = data.monthly.months.map(function (m) { return t.month.replace("{m}", m); });
    var issues = data.monthly.kinds.issue;
    var monthly = document.getElementById("chart-monthly");
    if (monthly) {
      new Chart(monthly, {
        type: "bar",
        data: {
          labels: months,
          datasets: [
            { label: t.found, data: issues.found, backgroundColor: "#f08c00" },
            { label: t.rectified, data: issues.fixed, backgroundColor: "#2f9e44" }
          ]
        },
        options: {
          responsive: true, maintainAspectRatio: false,
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
        }
      });
    }
    var restored = document.getElementById("chart-restored");
    if (restored) {
      new Chart(restored, {
        type: "bar",
        data: {
          labels: data.restored.labels,
          datasets: [{ label: t.restored_mu, data: data.restored.mu, backgroundColor: "#1c7ed6" }]
        },
        options: {
          indexAxis: "y", responsive: true, maintainAspectRatio: false,
          plugins: { legend: { display: false } },
          scales: { x: { beginAtZero: true } }
        }
      });
    }
  }

  function bindCopy() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var box = document.getElementById(button.getAttribute("data-copy"));
        if (!box) return;
        var done = function () { button.textContent = button.getAttribute("data-copied"); };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(box.value).then(done);
        } else {
          box.select();
          document.execCommand("copy");
          done();
        }
      });
    });
  }

  var source = document.getElementById("dashboard-data");
  var labels = document.getElementById("dashboard-labels");
  if (source && labels) drawCharts(JSON.parse(source.textContent), JSON.parse(labels.textContent));
  bindCopy();
})();
