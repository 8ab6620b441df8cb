// Small building blocks of the pages. Every text of the API goes in as text (textContent), never as HTML.

/** An element: h('td', {class: 'num'}, 'text', child, ...); attributes starting with 'on' are listeners. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (name.startsWith('on')) {
      element.addEventListener(name.slice(2), value);
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

/** Replaces what an element holds; null, undefined and false children are left out. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) {
      continue;
    }
    element.append(child instanceof Node ? child : String(child));
  }
}

const SVG = 'http://www.w3.org/2000/svg';

function s(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

/** A whole number with thousands separators, or a dash for none. */
export function count(value) {
  return value === null || value === undefined ? '–' : Number(value).toLocaleString('en-US');
}

/** A rate as the API gave it, to one decimal. */
export function rate(value) {
  return value === null || value === undefined
    ? '–'
    : Number(value).toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

export function bytes(value) {
  if (value === null || value === undefined) {
    return '–';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = Number(value);
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit++;
  }
  return (unit === 0 ? n : n.toFixed(1)) + ' ' + units[unit];
}

export function seconds(value) {
  if (value === null || value === undefined) {
    return '–';
  }
  return Number(value).toLocaleString('en-US', { maximumFractionDigits: 1 }) + ' s';
}

export function time(iso) {
  return iso ? new Date(iso).toLocaleString() : '–';
}

/** A state word coloured by what it means. */
export function state(word) {
  const good = ['RUNNING', 'FINISHED', 'CAPTURING', 'STREAMING', 'true', 'UP', 'ok'];
  const bad = ['FAILED', 'RESTARTING', 'false', 'high'];
  const text = String(word);
  return h('span', { class: good.includes(text) ? 'ok' : bad.includes(text) ? 'bad' : 'warn' }, text);
}

/**
 * A table: columns are {title, value: row => text or node, num: true for numbers}; rows are the API's objects.
 */
export function table(columns, rows, attributes = {}) {
  return h(
    'table',
    Object.assign({ class: 'data striped' }, attributes),
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.num ? 'num' : null }, c.title)))),
    h(
      'tbody',
      {},
      rows.map((row) =>
        h(
          'tr',
          {},
          columns.map((c) => h('td', { class: c.num ? 'num' : c.wrap ? 'wrap' : null }, c.value(row))),
        ),
      ),
    ),
  );
}

/** A definition list of label and value pairs (values text or nodes). */
export function facts(pairs) {
  return h('dl', { class: 'kv' }, pairs.map(([label, value]) => [h('dt', {}, label), h('dd', {}, value)]));
}

export function card(label, value, attributes = {}) {
  return h('div', Object.assign({ class: 'card' }, attributes), h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, value));
}

export function errorBox(error) {
  return h('div', { class: 'error-box', role: 'alert' }, error.name ? error.name + ': ' + error.message : String(error));
}

export function link(href, text) {
  return h('a', { href }, text);
}

/**
 * A chart of series over x (uPlot). kind is line, area or bar; x values are numbers (unix seconds when time is true).
 */
export function chart(target, { title, x, series, kind = 'line', time = true, width, height = 220, xLabels }) {
  const colours = ['#1f6f9f', '#c2571a', '#2f8f4e', '#8a4fa3', '#b3261e', '#5b6b74'];
  const paths = kind === 'bar' ? uPlot.paths.bars({ size: [0.6, 80] }) : undefined;
  const options = {
    title,
    width: width || Math.max(320, target.clientWidth || 800),
    height,
    scales: {
      // categories sit at 0, 1, …: half a step of room either side; one moment alone gets a minute either side
      x: xLabels
        ? { time: false, range: () => [-0.5, x.length - 0.5] }
        : x.length === 1 ? { time, auto: false, min: x[0] - 60, max: x[0] + 60 } : { time },
      y: { range: (u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] },
    },
    axes: [
      xLabels ? { splits: () => x.map((v, i) => i), values: (u, splits) => splits.map((v) => xLabels[v] ?? '') } : {},
      {},
    ],
    series: [
      {},
      ...series.map((one, i) => ({
        label: one.label,
        stroke: colours[i % colours.length],
        width: 2,
        fill: kind === 'line' ? undefined : colours[i % colours.length] + '55',
        paths,
        points: { show: kind !== 'bar' && x.length < 60 },
      })),
    ],
  };
  const plot = new uPlot(options, [x, ...series.map((one) => one.values)], target);
  target.dataset.points = String(x.length);
  return plot;
}

/**
 * A directed graph drawn in layers from its sources: nodes {id, lines: [text], kind: '' | 'low' | 'high' | 'root'},
 * edges {from, to, label}.
 */
export function graph(nodes, edges) {
  const level = new Map(nodes.map((n) => [n.id, 0]));
  for (let pass = 0; pass < nodes.length; pass++) {
    for (const e of edges) {
      if (level.has(e.from) && level.has(e.to) && level.get(e.to) < level.get(e.from) + 1) {
        level.set(e.to, level.get(e.from) + 1);
      }
    }
  }
  const width = 250;
  const gapX = 70;
  const lineHeight = 16;
  const boxHeight = Math.max(...nodes.map((n) => n.lines.length), 1) * lineHeight + 14;
  const gapY = 30;
  const columns = new Map();
  const position = new Map();
  for (const n of nodes) {
    const l = level.get(n.id);
    const row = columns.get(l) || 0;
    columns.set(l, row + 1);
    position.set(n.id, { x: 10 + l * (width + gapX), y: 10 + row * (boxHeight + gapY) });
  }
  const totalWidth = 20 + (Math.max(...level.values(), 0) + 1) * (width + gapX) - gapX;
  const totalHeight = 20 + Math.max(...columns.values(), 1) * (boxHeight + gapY) - gapY;
  const svg = s('svg', { class: 'graph', width: totalWidth, height: totalHeight, viewBox: `0 0 ${totalWidth} ${totalHeight}` });
  svg.append(s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' },
    s('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#7a8b94' }))));
  for (const e of edges) {
    const a = position.get(e.from);
    const b = position.get(e.to);
    if (!a || !b) {
      continue;
    }
    const x1 = a.x + width;
    const y1 = a.y + boxHeight / 2;
    const x2 = b.x;
    const y2 = b.y + boxHeight / 2;
    const mid = (x1 + x2) / 2;
    svg.append(s('path', { class: 'edge', d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`, 'marker-end': 'url(#arrow)' }));
    if (e.label) {
      svg.append(s('text', { class: 'edge-label', x: mid - 25, y: (y1 + y2) / 2 - 4 }, e.label));
    }
  }
  for (const n of nodes) {
    const p = position.get(n.id);
    const group = s('g', { class: 'node ' + (n.kind || ''), 'data-id': n.id, transform: `translate(${p.x},${p.y})` });
    group.append(s('rect', { width, height: boxHeight, rx: 6 }));
    n.lines.forEach((line, i) => {
      const text = String(line);
      group.append(s('text', { x: 8, y: 18 + i * lineHeight, 'font-weight': i === 0 ? 600 : 400 },
        text.length > 38 ? text.slice(0, 37) + '…' : text));
    });
    if (n.title) {
      group.append(s('title', {}, n.title));
    }
    svg.append(group);
  }
  return svg;
}

/** The lines of two texts as a diff: lines only in a start with '-', only in b with '+'. */
export function diff(a, b) {
  const x = a.split('\n');
  const y = b.split('\n');
  const lcs = Array.from({ length: x.length + 1 }, () => new Array(y.length + 1).fill(0));
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) {
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const lines = [];
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      lines.push({ kind: 'same', text: '  ' + x[i] });
      i++;
      j++;
    } else if (j < y.length && (i === x.length || lcs[i][j + 1] >= lcs[i + 1][j])) {
      lines.push({ kind: 'add', text: '+ ' + y[j] });
      j++;
    } else {
      lines.push({ kind: 'del', text: '- ' + x[i] });
      i++;
    }
  }
  return h('pre', { class: 'diff' }, lines.map((l) => h('span', { class: l.kind === 'same' ? null : l.kind }, l.text + '\n')));
}

/** A SQL editor (CodeMirror) completing the given tables: {name: [columns]}; Ctrl/Cmd-Enter calls run. */
export function sqlEditor(target, text, tables, run) {
  const editor = CodeMirror(target, {
    value: text,
    mode: 'text/x-sql',
    lineNumbers: true,
    extraKeys: {
      'Ctrl-Space': 'autocomplete',
      'Ctrl-Enter': () => run && run(),
      'Cmd-Enter': () => run && run(),
    },
    hintOptions: { tables, completeSingle: false },
  });
  editor.on('inputRead', (cm, change) => {
    if (/[\w.]/.test(change.text[0] || '')) {
      cm.showHint({ completeSingle: false });
    }
  });
  return editor;
}

/** The rows of a query result as CSV text (RFC 4180 quoting). */
export function csv(columns, rows) {
  const cell = (value) => {
    if (value === null || value === undefined) {
      return '';
    }
    const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
    return /[",\n\r]/.test(text) ? '"' + text.replaceAll('"', '""') + '"' : text;
  };
  return [columns.map(cell).join(','), ...rows.map((row) => row.map(cell).join(','))].join('\r\n') + '\r\n';
}
