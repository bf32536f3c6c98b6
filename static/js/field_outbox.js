/* 网格巡查: a field form (举证 of a 图斑, a 回头看) goes through the outbox of offline.js, as reports do.
 * The form (photos as Blobs, the GPS fix) is kept on the phone first, then sent; without signal it
 * stays there and is sent when the network returns, from any page with the outbox. The server stores
 * a resend once, by the form's client_id. A refusal is shown by sending the form the ordinary way. */
(function (root) {
  'use strict';
  var Outbox = root.ReportOutbox;
  var form = document.getElementById('evidence-form');
  if (!form || !Outbox || !root.fetch || !root.indexedDB) return;
  var note = document.getElementById('field-outbox-note');
  var busy = false;

  function plainSubmit() {
    busy = false;
    HTMLFormElement.prototype.submit.call(form);
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    if (busy) return;
    busy = true;
    var record = Outbox.fromForm(form);
    Outbox.put(record)
      .then(function () { return Outbox.send(record); })
      .then(function (result) {
        if (result.type === 'created') {
          return Outbox.remove(record.id).then(function () { root.location.assign(result.url); });
        }
        if (result.type === 'refused') {
          return Outbox.remove(record.id).then(plainSubmit);
        }
        // offline, or logged out: kept on the phone, sent by the outbox later
        busy = false;
        if (note) note.hidden = false;
        return Outbox.render();
      })
      .catch(plainSubmit);
  });
})(window);
