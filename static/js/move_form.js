/* 网格巡查 move form: the report form's map and preview (report_map.js) on the move page. */
(function (root) {
  'use strict';
  var form = document.getElementById('report-form');
  if (!form || !root.ReportMap) return;
  var i18n = JSON.parse(document.getElementById('report-i18n').textContent);
  root.reportMap = new root.ReportMap(form, i18n); // reachable from the console and tests
})(window);
