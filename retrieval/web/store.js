(() => {
  // The conversation's copy in the browser (localStorage), one key per turn: an answer writes only its
  // own turn, so saving does not grow with the conversation. `yandu-conversation` lists the saved turns
  // (always the first ones: a citation names its turn by position). A turn that does not fit (storage
  // full) is kept in memory, a warning offers to trim the oldest turns, and it is saved once there is room.
  if (window.ydStore) return window.ydStore;
  const INDEX = 'yandu-conversation';
  const TURN = 'yandu-turn:';
  let turns = [];   // this page's conversation: {id, data}
  let saved = 0;    // how many of them (the first ones) are in storage
  let user = null;
  const newId = () => Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
  const readIndex = () => {
    try {
      const v = JSON.parse(localStorage.getItem(INDEX) || 'null');
      return v && v.v === 2 && Array.isArray(v.ids) ? v : null;
    } catch (e) { return null; }  // an older copy (Gradio's encrypted BrowserState) or a damaged one
  };
  const writeIndex = (ids) => localStorage.setItem(INDEX, JSON.stringify({v: 2, user, saved: Date.now() / 1000, ids}));
  const load = () => {
    const index = readIndex();
    turns = [];
    if (index) {
      for (const id of index.ids) {
        let data = null;
        try { data = JSON.parse(localStorage.getItem(TURN + id) || 'null'); } catch (e) { data = null; }
        if (!data) break;  // a missing turn ends the saved conversation (later ones would be misnumbered)
        turns.push({id, data});
      }
    }
    saved = turns.length;
    user = index ? index.user : null;
    return {user, turns: turns.map((t) => t.data)};
  };
  const unsavedKeys = () => {
    const keep = new Set(turns.slice(0, saved).map((t) => TURN + t.id));
    return Object.keys(localStorage).filter((k) => k.startsWith(TURN) && !keep.has(k));
  };
  const persist = () => {
    // forget what is stored beyond the saved turns (a cleared or trimmed conversation, another tab's turns)
    for (const k of unsavedKeys()) localStorage.removeItem(k);
    try { writeIndex(turns.slice(0, saved).map((t) => t.id)); } catch (e) { /* a shorter list: fits */ }
    while (saved < turns.length) {
      const t = turns[saved];
      try {
        localStorage.setItem(TURN + t.id, JSON.stringify(t.data));
        writeIndex(turns.slice(0, saved + 1).map((x) => x.id));
      } catch (e) {  // QuotaExceededError: this turn and the later ones wait for room
        try { localStorage.removeItem(TURN + t.id); } catch (e2) { /* it was not written */ }
        break;
      }
      saved += 1;
    }
    warn();
  };
  const warn = () => {
    const missing = turns.length - saved;
    let box = document.getElementById('yd-store-warn');
    if (!missing) { if (box) box.remove(); return; }
    if (!box) {
      box = document.createElement('div');
      box.id = 'yd-store-warn';
      box.setAttribute('role', 'alert');
      const row = document.getElementById('yd-ask-row');
      (row ? row.parentElement : document.body).insertBefore(box, row);
    }
    const trim = Math.min(missing, turns.length - 1);  // never the whole conversation
    box.innerHTML = '';
    const text = document.createElement('span');
    text.textContent = `浏览器存储空间已满：最近 ${missing} 轮问答没有保存，刷新页面后会丢失。` + (trim
      ? `删除最早的 ${trim} 轮（页面、导出和浏览器中的副本都删除），可腾出空间保存其余问答。`
      : '请清空对话或清理浏览器中本站的数据后再试。');
    const no = document.createElement('button');
    no.textContent = '暂不';
    no.onclick = () => box.remove();
    if (!trim) { box.append(text, no); return; }
    const yes = document.createElement('button');
    yes.id = 'yd-store-trim';
    yes.textContent = `删除最早的 ${trim} 轮`;
    yes.onclick = () => {
      const key = document.querySelector('#yd-trim-key textarea, #yd-trim-key input');
      const go = document.querySelector('#yd-trim-go');
      if (!key || !go) return;
      key.value = String(trim);
      key.dispatchEvent(new Event('input', {bubbles: true}));
      setTimeout(() => go.click(), 30);
    };
    box.append(text, yes, no);
  };
  // What the server asks: {user, count, turn} when an answer added turn `count`; {user, turns} when the
  // conversation was replaced (cleared, trimmed, or restored with turns left out).
  const apply = (op) => {
    if (!op || typeof op !== 'object') return;
    user = op.user === undefined ? user : op.user;
    if (Array.isArray(op.turns)) {
      turns = op.turns.map((data) => ({id: newId(), data}));
      saved = 0;
    } else if (op.turn && Number.isInteger(op.count) && op.count >= 1) {
      if (turns.length > op.count - 1) {  // the server's conversation is shorter (another tab, a reload)
        turns = turns.slice(0, op.count - 1);
        saved = Math.min(saved, turns.length);
      }
      turns.push({id: newId(), data: op.turn});
    } else {
      return;
    }
    persist();
  };
  return (window.ydStore = {load, apply, state: () => ({turns: turns.length, saved})});
})()
