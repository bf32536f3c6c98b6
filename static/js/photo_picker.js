/* 网格巡查 photo fields (templates/cases/_photos.html): the "拍照" and "从相册选择" buttons feed one list.
 * The gallery input is the one submitted (and kept by the outbox): what the camera takes, and what is chosen
 * from the gallery again, is added to it; each file is listed by name with a remove button. After a form
 * reset the list is empty. Without DataTransfer (very old browsers) both inputs are simply sent as they are. */
(function (root) {
  'use strict';

  function sameFile(a, b) {
    return a.name === b.name && a.size === b.size && a.lastModified === b.lastModified;
  }

  function sizeMb(file) { return (file.size / 1048576).toFixed(1) + ' MB'; }

  function setup(box) {
    var gallery = box.querySelector('input[data-gallery]'), camera = box.querySelector('input[data-camera]');
    var list = box.querySelector('.photo-files'), none = box.querySelector('.photo-none');
    var removeLabel = box.dataset.removeLabel || '×';
    var canMerge = !!root.DataTransfer;
    var kept = [], syncing = false;
    if (!gallery || !camera) return;
    if (canMerge) camera.removeAttribute('name'); // the camera's files go into the gallery input

    function chosen() {
      var files = Array.prototype.slice.call(gallery.files || []);
      return canMerge ? files : files.concat(Array.prototype.slice.call(camera.files || []));
    }

    function render() {
      var files = chosen();
      list.textContent = '';
      files.forEach(function (file, i) {
        var item = document.createElement('li');
        var text = document.createElement('span');
        text.textContent = file.name + ' (' + sizeMb(file) + ')';
        item.appendChild(text);
        if (canMerge) {
          var remove = document.createElement('button');
          remove.type = 'button';
          remove.className = 'photo-remove';
          remove.textContent = removeLabel;
          remove.setAttribute('aria-label', removeLabel + ' ' + file.name);
          remove.addEventListener('click', function () {
            setFiles(kept.filter(function (_f, j) { return j !== i; }));
            gallery.focus();
          });
          item.appendChild(remove);
        }
        list.appendChild(item);
      });
      none.hidden = files.length > 0;
    }

    /* Put files in the gallery input and tell the page (its change listeners) they changed; quiet while
     * handling the gallery's own change event, which goes on to the page's listeners anyway. */
    function setFiles(files, quiet) {
      var dt = new DataTransfer();
      files.forEach(function (f) { dt.items.add(f); });
      gallery.files = dt.files;
      kept = Array.prototype.slice.call(gallery.files);
      render();
      if (quiet) return;
      syncing = true;
      try { gallery.dispatchEvent(new Event('change', { bubbles: true })); } finally { syncing = false; }
    }

    function add(files, quiet) {
      var merged = kept.slice();
      files.forEach(function (f) { if (!merged.some(function (k) { return sameFile(k, f); })) merged.push(f); });
      setFiles(merged, quiet);
    }

    gallery.addEventListener('change', function () {
      if (syncing) return;
      if (!canMerge) { render(); return; }
      // A new choice from the gallery (or files put back from the outbox): added to what was there.
      var picked = Array.prototype.slice.call(gallery.files || []);
      if (picked.length === kept.length && picked.every(function (f, i) { return f === kept[i]; })) { render(); return; }
      add(picked, true);
    });
    camera.addEventListener('change', function () {
      if (!canMerge) { render(); return; }
      var taken = Array.prototype.slice.call(camera.files || []);
      camera.value = '';
      if (taken.length) add(taken);
    });
    if (gallery.form) {
      gallery.form.addEventListener('reset', function () {
        kept = [];
        setTimeout(render, 0); // the inputs are cleared after the reset event
      });
    }
    box.photoPicker = { setFiles: setFiles, files: function () { return kept.slice(); } };
    kept = Array.prototype.slice.call(gallery.files || []); // a browser may keep a choice on "back"
    render();
  }

  /* A single-file input shown as a button: show the chosen file's name beside it. */
  function setupFileButton(input) {
    var name = document.getElementById(input.id + '-name');
    if (!name) return;
    var empty = name.textContent;
    var show = function () { name.textContent = input.files && input.files.length ? input.files[0].name : empty; };
    input.addEventListener('change', show);
    if (input.form) input.form.addEventListener('reset', function () { setTimeout(show, 0); });
    show();
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll('[data-photo-picker]'), setup);
    Array.prototype.forEach.call(document.querySelectorAll('input[data-file-button]'), setupFileButton);
  }

  root.PhotoPicker = { init: init };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})(window);
