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
  // Gradio titles its notices with the English type name ("Warning", "Error"); say it in Chinese.
  const TITLES = {Warning: '提示', Info: '提示', Success: '完成', Error: '出错了'};
  const retitle = () => document.querySelectorAll('.toast-title').forEach((el) => {
    for (const node of el.childNodes) {
      const word = node.nodeType === 3 && node.textContent.trim();
      if (word && TITLES[word]) node.textContent = node.textContent.replace(word, TITLES[word]);
    }
  });
  new MutationObserver(retitle).observe(document.body, {childList: true, subtree: true, characterData: true});
}
