/* 网格巡查: a report made while a patrol runs (static/js/patrol.js) names that patrol, so the server
 * links the case to it; the source stays 巡查发现 (patrol), the form's default. Only the user who
 * started the patrol links to it (a shared phone). */
(function (root) {
  'use strict';
  var field = document.querySelector('#report-form input[name=patrol_client_id]');
  var box = document.getElementById('outbox');
  if (!field || !box) return;
  try {
    var current = JSON.parse(root.localStorage.getItem('wangge-patrol-current') || 'null');
    if (current && current.owner && current.owner === box.dataset.user) {
      field.value = current.clientId;
    }
  } catch (e) { /* no storage: the report is not linked */ }
})(window);
