() => {
  // Citations [n] in answers are links "#cite-<turn>-<rank>": open that passage in the context panel.
  // A passage's 有用/无用 are links "#rate-<turn>-<rank>-up|down": the same way to its handler.
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a.yd-cite, a[href^="#cite-"], a.yd-rate');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const kind = link.classList.contains('yd-rate') ? 'rate' : 'cite';
    const key = (link.getAttribute('href') || '').replace('#' + kind + '-', '');
    const box = document.querySelector('#yd-' + kind + '-key textarea, #yd-' + kind + '-key input');
    const go = document.querySelector('#yd-' + kind + '-go');
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
  // Copying a message gives its text as the reader sees it: Gradio's own copy button (off: layout.py)
  // copies the message's HTML. Each question and answer gets a 复制 button; what it copies is the
  // message's rendered text (line breaks kept, list items numbered), its controls (有用/无用) left out.
  const plainText = (message) => {
    const copy = message.cloneNode(true);
    for (const el of copy.querySelectorAll('.yd-rate, .yd-copy')) el.remove();
    for (const list of copy.querySelectorAll('ol')) {
      [...list.children].forEach((li, i) => li.prepend(`${i + 1}. `));
    }
    const host = document.createElement('div');  // rendered (innerText follows layout), out of sight
    host.style.cssText = 'position:fixed;left:-99999px;top:0;width:800px;';
    host.append(copy);
    document.body.append(host);
    const text = copy.innerText;
    host.remove();
    return text.split('\n').map((line) => line.trimEnd()).join('\n').replace(/\n{3,}/g, '\n\n').trim();
  };
  // The clipboard API needs a secure context (https, localhost); an intranet address over http has
  // none: there the browser's copy command carries the text.
  const toClipboard = async (text) => {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    const put = (event) => { event.clipboardData.setData('text/plain', text); event.preventDefault(); };
    document.addEventListener('copy', put, {once: true});
    try {
      if (!document.execCommand('copy')) throw new Error('copy refused');
    } finally {
      document.removeEventListener('copy', put);
    }
  };
  const addCopyButtons = () => {
    for (const row of document.querySelectorAll('#yd-chat .message-row')) {
      if (row.querySelector('.yd-copy')) continue;
      const body = row.querySelector('[data-testid="user"], [data-testid="bot"]');
      if (!body) continue;
      const label = body.dataset.testid === 'user' ? '复制本条提问' : '复制本条回答';
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'yd-copy';
      button.textContent = '复制';
      button.title = label;
      button.setAttribute('aria-label', label);
      (row.querySelector('.flex-wrap') || row).append(button);
    }
  };
  document.addEventListener('click', async (event) => {
    const button = event.target.closest && event.target.closest('#yd-chat button.yd-copy');
    const message = button && button.closest('.message-row').querySelector('.message-content');
    if (!message) return;
    let shown = '已复制';
    try {
      await toClipboard(plainText(message));
    } catch (e) {
      shown = '复制失败';
    }
    button.textContent = shown;
    clearTimeout(button.ydShown);
    button.ydShown = setTimeout(() => { button.textContent = '复制'; }, 2000);
  });
  // Words Gradio writes into its components in English, not through its translations (locale.py):
  // tooltips and screen-reader labels, notice titles, and the upload-size notice of its client.
  const WORDS = {
    'Warning': '提示', 'Info': '提示', 'Success': '完成', 'Error': '出错了',
    'Scroll down': '滚动到最新',
    'Fullscreen': '全屏', 'Exit fullscreen mode': '退出全屏', 'Copy table data': '复制表格数据',
    'Copied to clipboard': '已复制到剪贴板', 'Toggle Sidebar': '展开或收起侧栏', 'Reset to default value': '恢复默认值',
    'Click to upload or drop files': '点击上传或拖放文件', 'File upload': '上传文件', 'More tabs': '更多标签页',
    'chatbot conversation': '问答记录', 'Table actions': '表格操作', 'Dataframe': '报告表', 'Open cell menu': '打开单元格菜单',
    'Gradio footer navigation': '页脚链接', 'Stop Recording': '停止录制', 'Clear': '清除', 'Copy': '复制',
    'Remove': '移除', 'Download': '下载', 'Close': '关闭', 'Filter': '筛选', 'Clear filters': '清除筛选',
    'Sort ascending': '升序排列', 'Sort descending': '降序排列', 'Clear sort': '清除排序', 'Loading...': '加载中…',
    'Select all': '全选', 'Search': '查找', 'Dropdown': '下拉菜单', 'Remove this file': '移除此文件',
    'Liked': '已赞', 'Disliked': '已踩', 'Like': '赞', 'Dislike': '踩',
  };
  // HTML as the text it shows (an inert document: nothing in it runs or loads)
  const textOf = (html) => new DOMParser().parseFromString(html, 'text/html').body.textContent.replace(/\s+/g, ' ').trim();
  const PATTERNS = [
    // @gradio/client: `File(s) exceed the maximum allowed size of 20.0 Mb: "a.pdf", "b.pdf"`
    [/^File\(s\) exceed the maximum allowed size of ([\d.]+) ?(\w+): (.*)$/s,
     (m, n, unit, names) => `文件超过上传上限 ${parseFloat(n)} ${unit.toUpperCase()}，未上传：${names.replace(/"/g, '').split(', ').join('、')}`],
    [/^number input for (.*)$/s, (m, x) => `${x}（数值）`],
    [/^range slider for (.*)$/s, (m, x) => `${x}（滑块）`],
    // a message's label is its HTML: read out as the text it shows
    [/^user's message: (.*)$/s, (m, x) => `提问：${textOf(x)}`],
    [/^bot's message: (.*)$/s, (m, x) => `回答：${textOf(x).slice(0, 80)}`],
    [/^Select example (\d+): (.*)$/s, (m, n, x) => `示例问题 ${n}：${x}`],
  ];
  const chinese = (text) => {
    const t = text.trim();
    if (!t || !/[A-Za-z]/.test(t)) return null;
    if (WORDS[t]) return text.replace(t, WORDS[t]);
    for (const [re, fn] of PATTERNS) {
      const m = t.match(re);
      if (m) return fn(...m);
    }
    return null;
  };
  const ATTRS = ['title', 'aria-label', 'alt', 'placeholder'];
  const LABELLED = '[title],[aria-label],[alt],[placeholder]';
  // Only what changed is read again (the elements added, or whose labels or text changed): a pass over
  // the whole page per change grew with the conversation (every earlier answer's labels, every answer).
  const within = (root, selector) => [...(root.matches(selector) ? [root] : []), ...root.querySelectorAll(selector)];
  const translate = (roots) => {
    for (const root of roots) {
      if (!root.isConnected) continue;
      for (const el of within(root, LABELLED)) {
        for (const a of ATTRS) {
          const v = el.getAttribute(a);
          const z = v && chinese(v);
          if (z && z !== v) el.setAttribute(a, z);
        }
      }
      // the 段落类型 boxes are titled with their values ("overview", "problem"): title them as they read
      for (const box of within(root, '#yd-types input[title]')) {
        const text = (box.closest('label') || box.parentElement).textContent.trim();
        if (text && box.getAttribute('title') !== text) box.setAttribute('title', text);
      }
      const toasts = '.toast-title, .toast-text, .toast-body, [data-testid="toast-body"]';
      const notices = root.closest(toasts) ? [root] : root.querySelectorAll(toasts);
      for (const el of notices) {
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        let node;
        while ((node = walker.nextNode())) {
          const z = chinese(node.textContent);
          if (z && z !== node.textContent) node.textContent = z;
        }
      }
    }
  };
  let changed = new Set();
  const soon = (records) => {  // once per frame, however many changes came in it
    const first = changed.size === 0;
    for (const r of records) {
      if (r.type === 'childList') r.addedNodes.forEach((n) => { if (n.nodeType === 1) changed.add(n); });
      else changed.add(r.type === 'characterData' ? r.target.parentElement : r.target);
    }
    changed.delete(null);
    if (!first || changed.size === 0) return;
    requestAnimationFrame(() => {
      const roots = changed;
      changed = new Set();
      translate(roots);
      addCopyButtons();
    });
  };
  translate([document.body]);
  addCopyButtons();
  new MutationObserver(soon).observe(document.body, {childList: true, subtree: true, characterData: true,
                                                     attributes: true, attributeFilter: ATTRS});
}
