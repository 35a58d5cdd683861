() => {
  // The 报告库 list (web/library.py) is HTML: a click (or Enter) on a row, a column header or a trash
  // button names its action in data-yd-go and its report in data-yd-key; it goes to the server through
  // the hidden #yd-lib-key box and the action's hidden button (#yd-lib-<go>-go).
  const send = (go, key) => {
    const box = document.querySelector('#yd-lib-key textarea, #yd-lib-key input');
    const button = document.querySelector('#yd-lib-' + go + '-go');
    if (!box || !button) return;
    box.value = key;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    setTimeout(() => button.click(), 30);
  };
  const act = (el) => {
    const go = el.getAttribute('data-yd-go');
    const key = el.getAttribute('data-yd-key') || '';
    const ask = el.getAttribute('data-yd-ask');  // 永久删除: asked first, nothing happens without a yes
    if (ask && !window.confirm(ask)) return;
    if (go === 'pick') {
      // marked at once; the server sends its outline. On a phone the panel is below the list: shown.
      for (const row of document.querySelectorAll('#yd-library .yd-picked')) {
        row.classList.remove('yd-picked');
        row.setAttribute('aria-selected', 'false');
      }
      el.classList.add('yd-picked');
      el.setAttribute('aria-selected', 'true');
      setTimeout(() => {
        const panel = document.querySelector('#yd-lib-detail');
        if (!panel) return;
        if (window.innerWidth <= 768) panel.scrollIntoView({block: 'start', behavior: 'smooth'});
        else {  // a desktop: the panel's top part brought up, the list kept in view as far as it goes
          const below = panel.getBoundingClientRect().top - (window.innerHeight - 300);
          if (below > 0) window.scrollBy({top: below, behavior: 'smooth'});
        }
      }, 120);
    }
    send(go, key);
  };
  document.addEventListener('click', (event) => {
    const el = event.target.closest && event.target.closest('#yd-library [data-yd-go]');
    if (!el) return;
    event.preventDefault();
    act(el);
  });
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    const el = event.target.closest && event.target.closest('#yd-library tr[data-yd-go]');
    if (!el || event.target !== el) return;
    event.preventDefault();
    act(el);
  });

  // 添加报告: a batch with a file over the upload limit is refused by Gradio's client before it is sent
  // (a notice, nothing uploaded). The panel says it too, in place of the last batch's result.
  const offered = (files) => {
    const hint = document.querySelector('#yd-upload-hint [data-max-mb]');
    const limit = hint ? parseFloat(hint.getAttribute('data-max-mb')) * 1048576 : Infinity;
    const list = Array.from(files || []).map((f) => ({name: f.name, size: f.size}));
    if (!list.some((f) => f.size > limit)) return;
    const box = document.querySelector('#yd-upload-refused textarea, #yd-upload-refused input');
    const button = document.querySelector('#yd-upload-refused-go');
    if (!box || !button) return;
    box.value = JSON.stringify(list);
    box.dispatchEvent(new Event('input', {bubbles: true}));
    setTimeout(() => button.click(), 30);
  };
  document.addEventListener('change', (event) => {
    if (event.target.matches && event.target.matches('#yd-upload input[type=file]')) offered(event.target.files);
  }, true);
  document.addEventListener('drop', (event) => {
    if (event.target.closest && event.target.closest('#yd-upload') && event.dataTransfer) offered(event.dataTransfer.files);
  }, true);
}
