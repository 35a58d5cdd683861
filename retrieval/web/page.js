() => {
  // Citations [n] in answers are links "#cite-<turn>-<rank>": open that passage in the context panel.
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a.yd-cite, a[href^="#cite-"]');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const key = (link.getAttribute('href') || '').replace('#cite-', '');
    const box = document.querySelector('#yd-cite-key textarea, #yd-cite-key input');
    const go = document.querySelector('#yd-cite-go');
    if (!box || !go) return;
    box.value = key;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    setTimeout(() => go.click(), 30);
  }, true);
  // On a phone the chat comes first: the sidebar (filters, status, upload) starts closed, a drawer.
  const closeDrawerOnPhone = (tries) => {
    const toggle = document.querySelector('#yd-side.open > button');
    if (window.innerWidth > 768) return;
    if (toggle) toggle.click();
    else if (tries > 0) setTimeout(() => closeDrawerOnPhone(tries - 1), 100);
  };
  closeDrawerOnPhone(30);
}
