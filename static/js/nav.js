/* 网格巡查: on narrow screens the menu folds behind one button (菜单); without JS it stays open. */
'use strict';
(function () {
  var button = document.querySelector('.menu-toggle');
  var bar = document.querySelector('.topbar');
  if (!button || !bar) return;
  bar.classList.add('foldable');
  button.hidden = false;
  button.addEventListener('click', function () {
    var open = button.getAttribute('aria-expanded') !== 'true';
    button.setAttribute('aria-expanded', String(open));
    bar.classList.toggle('open', open);
  });
  document.addEventListener('keydown', function (event) {
    if (event.key === 'Escape' && bar.classList.contains('open')) {
      bar.classList.remove('open');
      button.setAttribute('aria-expanded', 'false');
      button.focus();
    }
  });
})();
