// The console's pages. Every number shown is one the API answered; the browser only formats it.
import { follow, get, post, put, seg } from './api.js';
import {
  bytes, card, chart, fill, count, csv, diff, errorBox, facts, graph, h, link, rate, seconds, sqlEditor, state, table, time,
} from './widgets.js';

/** Runs an action of a button: shows its error (or notice) in place, and disables the button while it runs. */
async function act(button, out, work) {
  button.setAttribute('aria-busy', 'true');
  button.disabled = true;
  fill(out);
  try {
    const notice = await work();
    if (notice) {
      out.append(h('div', { class: 'notice', role: 'status' }, notice));
    }
  } catch (e) {
    out.append(errorBox(e));
  } finally {
    button.removeAttribute('aria-busy');
    button.disabled = false;
  }
}

/** Names for completion: lake.<ns>.<table> and stream.<topic> with their columns. */
async function completions() {
  const tables = {};
  const [lake, topics] = await Promise.all([get('/v1/tables'), get('/v1/topics')]);
  for (const t of lake.tables) {
    tables['lake.' + t] = [];
  }
  for (const t of topics.topics) {
    tables['stream.' + t.name] = (t.columns || []).map((c) => c.name);
  }
  return tables;
}

// ---------------------------------------------------------------- overview

async function overview(root, rest, query, ctx) {
  const body = h('div');
  root.append(h('h2', {}, 'Overview'), body);
  const draw = async () => {
    const o = await get('/v1/overview');
    if (!ctx.current) {
      return;
    }
    const failingPipelines = o.pipelines.filter((p) => p.failing);
    const failingSources = o.sources.filter((s) => s.failing);
    fill(body,
      h('div', { class: 'grid-cards', id: 'parts' },
        Object.entries(o.parts).map(([part, up]) => card(part, state(up ? 'UP' : 'DOWN'), { 'data-part': part }))),
      failingPipelines.length + failingSources.length > 0
        ? h('div', { id: 'failing' }, h('h3', { class: 'bad' }, 'Failing'),
          failingPipelines.map((p) => h('div', { class: 'error-box' }, link('#/pipelines/' + seg(p.name), 'pipeline ' + p.name),
            ' ', p.state, p.lastError ? ': ' + p.lastError : '')),
          failingSources.map((s) => h('div', { class: 'error-box' }, link('#/sources/' + seg(s.name), 'source ' + s.name),
            ' ', s.state, s.lastError ? ': ' + s.lastError : '')))
        : h('p', { class: 'ok', id: 'failing' }, 'Nothing is failing.'),
      h('div', { class: 'grid' },
        h('section', {},
          h('h3', {}, 'Topics'),
          table([
            { title: 'Topic', value: (t) => link('#/topics/' + seg(t.name), t.name) },
            { title: 'Records', value: (t) => count(t.records), num: true },
            { title: 'Records/s', value: (t) => rate(t.recordsPerSecond), num: true },
          ], o.topics, { id: 'overview-topics' })),
        h('section', {},
          h('h3', {}, 'Lake tables written by pipelines'),
          table([
            { title: 'Table', value: (t) => link('#/tables/' + seg(t.name), t.name) },
            { title: 'Freshness', value: (t) => seconds(t.freshnessSeconds), num: true },
            { title: 'Last commit', value: (t) => time(t.lastCommitAt) },
          ], o.tables, { id: 'overview-tables' }))),
      h('section', {},
        h('h3', {}, 'Pipelines'),
        table([
          { title: 'Pipeline', value: (p) => link('#/pipelines/' + seg(p.name), p.name) },
          { title: 'State', value: (p) => state(p.state) },
          { title: 'Lag (records)', value: (p) => count(p.lagRecords), num: true },
          { title: 'Records out', value: (p) => count(p.recordsOut), num: true },
        ], o.pipelines, { id: 'overview-pipelines' })),
      o.sources.length === 0 ? null : h('section', {},
        h('h3', {}, 'Sources'),
        table([
          { title: 'Source', value: (s) => link('#/sources/' + seg(s.name), s.name) },
          { title: 'State', value: (s) => state(s.state) },
          { title: 'Warnings', value: (s) => (s.warnings || []).join('; '), wrap: true },
        ], o.sources)),
      h('p', { class: 'muted' }, 'As of ', time(o.at), '; refreshed every 2 s.'),
    );
  };
  await draw();
  ctx.every(2000, draw);
}

// ---------------------------------------------------------------- topics

async function topics(root, rest, query, ctx) {
  if (rest.length > 0) {
    return topic(root, rest[0], ctx);
  }
  const list = h('div');
  const name = h('input', { name: 'topic-name', placeholder: 'orders', required: true });
  const partitions = h('input', { name: 'topic-partitions', type: 'number', min: 1, value: 1 });
  const columns = h('input', { name: 'topic-columns', placeholder: 'id BIGINT, page STRING' });
  const out = h('div');
  const create = h('button', { type: 'submit', id: 'create-topic' }, 'Create topic');
  const draw = async () => {
    const answer = await get('/v1/topics');
    fill(list, table([
      { title: 'Topic', value: (t) => link('#/topics/' + seg(t.name), t.name) },
      { title: 'Partitions', value: (t) => count(t.partitions), num: true },
      { title: 'Records', value: (t) => count(t.records), num: true },
      { title: 'Format', value: (t) => t.format },
      { title: 'Columns', value: (t) => (t.columns || []).map((c) => c.name + ' ' + c.type).join(', '), wrap: true },
    ], answer.topics, { id: 'topics' }));
  };
  root.append(
    h('h2', {}, 'Topics'),
    list,
    h('h3', {}, 'New topic'),
    h('form', {
      onsubmit: (event) => {
        event.preventDefault();
        act(create, out, async () => {
          const body = { name: name.value.trim(), partitions: Number(partitions.value) };
          const declared = columns.value.trim();
          if (declared) {
            // "name TYPE, name TYPE(p, s)": commas inside parentheses belong to the type; the server checks the types
            body.columns = [];
            let depth = 0;
            let current = '';
            for (const ch of declared + ',') {
              if (ch === ',' && depth === 0) {
                const [column, ...type] = current.trim().split(/\s+/);
                body.columns.push({ name: column, type: type.join(' ') });
                current = '';
              } else {
                depth += ch === '(' ? 1 : ch === ')' ? -1 : 0;
                current += ch;
              }
            }
          }
          await post('/v1/topics', body);
          await draw();
          return 'Topic ' + body.name + ' created.';
        });
      },
    },
    h('div', { class: 'row' },
      h('label', {}, 'Name', name),
      h('label', {}, 'Partitions', partitions),
      h('label', { style: null }, 'Columns (optional)', columns),
      create),
    out),
  );
  await draw();
  ctx.every(5000, draw);
}

async function topic(root, name, ctx) {
  const info = await get('/v1/topics/' + seg(name));
  const summary = h('div');
  const rates = h('div', { class: 'chart', id: 'rate-chart' });
  const tailRows = [];
  const tailBody = h('tbody');
  const tailStatus = h('p', { class: 'muted' }, 'Following…');
  const record = h('textarea', { name: 'record', rows: 2 },
    JSON.stringify(Object.fromEntries((info.columns || []).map((c) => [c.name, null]))));
  const out = h('div');
  const produce = h('button', { type: 'submit', id: 'produce' }, 'Produce');
  const drawSummary = (t) => fill(summary, facts([
    ['Partitions', count(t.partitions)],
    ['Records', h('span', { id: 'topic-records' }, count(t.records))],
    ['Format', t.format],
    ['Columns', (t.columns || []).map((c) => c.name + ' ' + c.type).join(', ') || '(none declared)'],
    ['Retention', t.retention ? JSON.stringify(t.retention) : '–'],
    ['Lineage', link('#/lineage?topic=' + seg(name), 'where its records go')],
  ]));
  drawSummary(info);
  root.append(
    h('h2', {}, 'Topic ', name),
    summary,
    h('h3', {}, 'Produce a test record'),
    h('form', {
      class: 'small',
      onsubmit: (event) => {
        event.preventDefault();
        act(produce, out, async () => {
          let value;
          try {
            value = JSON.parse(record.value);
          } catch (e) {
            throw new Error('The record is not JSON: ' + e.message);
          }
          const answer = await post('/v1/topics/' + seg(name) + '/records', [value]);
          return 'Accepted ' + answer.accepted + ' record.';
        });
      },
    }, record, produce, out),
    h('h3', {}, 'Live records (newest first)'),
    tailStatus,
    h('div', { class: 'scroll' }, h('table', { class: 'data tail', id: 'tail' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Partition'), h('th', {}, 'Offset'), h('th', {}, 'Time'), h('th', {}, 'Key'),
        h('th', {}, 'Value'))),
      tailBody)),
    h('h3', {}, 'Records per second (5 s intervals)'),
    rates,
  );
  let plot = null;
  const drawRates = async () => {
    const answer = await get('/v1/topics/' + seg(name) + '/rates');
    const x = answer.rates.map((r) => Date.parse(r.at) / 1000);
    const y = answer.rates.map((r) => r.recordsPerSecond);
    if (plot) {
      plot.setData([x, y]);
      rates.dataset.points = String(x.length);
    } else if (ctx.current) {
      plot = chart(rates, { x, series: [{ label: 'records/s', values: y }], kind: 'area' });
    }
    drawSummary(await get('/v1/topics/' + seg(name)));
  };
  await drawRates();
  ctx.every(5000, drawRates);
  const stream = follow('/v1/topics/' + seg(name) + '/tail?last=10', (event, data) => {
    if (event === 'record') {
      tailRows.unshift(h('tr', {}, h('td', { class: 'num' }, data.partition), h('td', { class: 'num' }, data.offset),
        h('td', {}, new Date(data.timestamp).toLocaleTimeString()), h('td', {}, data.key ?? ''),
        h('td', { class: 'wrap' }, data.value ?? '')));
      tailRows.length = Math.min(tailRows.length, 100);
      fill(tailBody, ...tailRows);
    } else if (event === 'cutoff') {
      tailStatus.textContent = 'Stopped: ' + data.reason;
    }
  }, (error) => {
    if (error && ctx.current) {
      fill(tailStatus, errorBox(error));
    }
  });
  ctx.onLeave(() => stream.close());
}

// ---------------------------------------------------------------- pipelines

async function pipelines(root, rest, query, ctx) {
  if (rest.length > 0) {
    return pipeline(root, rest[0], ctx);
  }
  const list = h('div');
  const draw = async () => {
    const answer = await get('/v1/pipelines');
    fill(list, table([
      { title: 'Pipeline', value: (p) => link('#/pipelines/' + seg(p.name), p.name) },
      { title: 'State', value: (p) => state(p.state) },
      { title: 'Records in', value: (p) => count(p.recordsIn), num: true },
      { title: 'Records out', value: (p) => count(p.recordsOut), num: true },
      { title: 'Restarts', value: (p) => count(p.restarts), num: true },
      { title: 'Last error', value: (p) => p.lastError || '', wrap: true },
    ], answer.pipelines, { id: 'pipelines' }));
  };
  const name = h('input', { name: 'pipeline-name', placeholder: 'orders-to-lake', required: true });
  const editorBox = h('div', { id: 'pipeline-sql' });
  const out = h('div');
  const create = h('button', { type: 'submit', id: 'create-pipeline' }, 'Create and start');
  root.append(
    h('h2', {}, 'Pipelines'),
    list,
    h('h3', {}, 'New pipeline'),
    h('form', {
      onsubmit: (event) => {
        event.preventDefault();
        act(create, out, async () => {
          const created = await post('/v1/pipelines', { name: name.value.trim(), sql: editor.getValue() });
          location.hash = '#/pipelines/' + seg(created.name);
        });
      },
    },
    h('label', {}, 'Name', name),
    h('label', {}, 'Flink SQL: CREATE TABLE lake.… statements, then INSERT INTO … SELECT … FROM stream.…'),
    editorBox, create, out),
  );
  const editor = sqlEditor(editorBox, '', await completions());
  await draw();
  ctx.every(3000, draw);
}

async function pipeline(root, name, ctx) {
  const summary = h('div');
  const graphBox = h('div', { id: 'job-graph', class: 'scroll' });
  const checkpoints = h('p', { id: 'checkpoints' });
  const actions = h('div', { class: 'row small' });
  const out = h('div');
  const diffBox = h('div');
  const editorBox = h('div', { id: 'pipeline-sql' });
  root.append(
    h('h2', {}, 'Pipeline ', name),
    summary, checkpoints, actions, out,
    h('h3', {}, 'Job graph'),
    h('p', { class: 'muted' }, 'Each task of the Flink job: records per second in and out and back-pressure (Flink\'s ' +
      'one-minute rates; an orange or red border is back-pressure of 10 % or 50 %).'),
    graphBox,
    h('h3', {}, 'SQL'),
    editorBox,
    h('p', { class: 'muted' }, 'Changes against the running version:'),
    diffBox,
  );
  let p = await get('/v1/pipelines/' + seg(name));
  const running = { sql: p.sql };
  const editor = sqlEditor(editorBox, p.sql, await completions());
  const showDiff = () => fill(diffBox, diff(running.sql, editor.getValue()));
  editor.on('change', showDiff);
  showDiff();
  const button = (id, text, work) => {
    const b = h('button', { id, type: 'button', class: 'small' }, text);
    b.addEventListener('click', () => act(b, out, work));
    return b;
  };
  const draw = async () => {
    p = await get('/v1/pipelines/' + seg(name));
    if (!ctx.current) {
      return;
    }
    fill(summary, facts([
      ['State', h('span', { id: 'pipeline-state' }, state(p.state))],
      ['Records in / out', count(p.recordsIn) + ' / ' + count(p.recordsOut)],
      ['Lag', p.lagRecords === null ? '–' : count(p.lagRecords) + ' records'],
      ['Last checkpoint', p.lastCheckpoint ? '#' + p.lastCheckpoint.id + ' at ' + time(p.lastCheckpoint.completedAt) : '–'],
      ['Restarts', count(p.restarts)],
      ['Dead letters', count(p.deadLetters)],
      ['Reads from', p.from || 'earliest'],
      ['Last error', p.lastError ? h('span', { class: 'bad', id: 'pipeline-error' }, p.lastError) : 'none'],
      ['Warnings', (p.warnings || []).join('; ') || 'none'],
      ['Lineage', link('#/lineage?pipeline=' + seg(name), 'what it reads and writes')],
    ]));
    const stopped = ['STOPPED', 'FAILED', 'FINISHED'].includes(p.state);
    if (actions.dataset.stopped === String(stopped)) {
      return drawGraph(); // the buttons stay as they are while the state does: a click is never lost to a redraw
    }
    actions.dataset.stopped = String(stopped);
    fill(actions,
      stopped
        ? button('start', 'Start', async () => {
          await post('/v1/pipelines/' + seg(name) + '/start');
          await draw();
          return 'Started.';
        })
        : button('stop', 'Stop with savepoint', async () => {
          await post('/v1/pipelines/' + seg(name) + '/stop');
          await draw();
          return 'Stopped with a savepoint.';
        }),
      button('update', 'Save SQL (stopped pipelines)', async () => {
        const updated = await put('/v1/pipelines/' + seg(name), { sql: editor.getValue() });
        running.sql = updated.sql;
        showDiff();
        await draw();
        return 'SQL saved; start the pipeline to run it.';
      }),
    );
    return drawGraph();
  };
  const drawGraph = async () => {
    const g = await get('/v1/pipelines/' + seg(name) + '/graph');
    if (!ctx.current) {
      return;
    }
    fill(checkpoints, 'Checkpoints of the running job: ', count(g.checkpoints.completed), ' completed, ',
      count(g.checkpoints.failed), ' failed',
      g.checkpoints.lastMillis >= 0 ? '; the newest took ' + count(g.checkpoints.lastMillis) + ' ms' : '', '.');
    fill(graphBox, g.vertices.length === 0
      ? h('p', { class: 'muted' }, 'Flink knows no job of this pipeline now.')
      : graph(
        g.vertices.map((v) => ({
          id: v.id,
          kind: v.backPressure === 'ok' ? '' : v.backPressure,
          title: v.name,
          lines: [v.name, 'parallelism ' + v.parallelism + ' · ' + v.state,
            'in ' + rate(v.recordsInPerSecond) + '/s · out ' + rate(v.recordsOutPerSecond) + '/s',
            'back-pressure ' + v.backPressure + ' (' + Math.round(v.backPressured * 100) + ' %) · busy ' +
              Math.round(v.busy * 100) + ' %'],
        })),
        g.edges.map((e) => ({ from: e.from, to: e.to, label: e.shipStrategy })),
      ));
  };
  await draw();
  ctx.every(3000, draw);
}

// ---------------------------------------------------------------- tables

async function tables(root, rest, query, ctx) {
  if (rest.length > 0) {
    return lakeTable(root, rest[0], ctx);
  }
  const answer = await get('/v1/tables');
  root.append(h('h2', {}, 'Lake tables'),
    table([{ title: 'Table', value: (t) => link('#/tables/' + seg(t), t) }], answer.tables, { id: 'tables' }));
}

async function lakeTable(root, name, ctx) {
  const t = await get('/v1/tables/' + seg(name));
  const snapshots = await get('/v1/tables/' + seg(name) + '/snapshots?limit=100');
  const timeline = h('div', { class: 'chart', id: 'snapshot-chart' });
  const files = h('div', { class: 'chart', id: 'file-chart' });
  const preview = h('div', { id: 'preview' });
  const out = h('div');
  const maintain = h('button', { type: 'button', id: 'maintain', class: 'small' }, 'Maintain now');
  maintain.addEventListener('click', () => act(maintain, out, async () => {
    const run = await post('/v1/tables/' + seg(name) + '/maintenance');
    return 'Maintenance: ' + JSON.stringify(run);
  }));
  root.append(
    h('h2', {}, 'Table ', name),
    facts([
      ['Rows', count(t.rows)],
      ['Data files', count(t.dataFiles)],
      ['Delete files', count(t.deleteFiles)],
      ['Bytes', bytes(t.fileBytes)],
      ['Average file', bytes(t.averageFileBytes)],
      ['Snapshots kept', count(t.snapshotCount)],
      ['Format version', t.formatVersion],
      ['Partitioned by', (t.partitionSpec || []).map((p) => JSON.stringify(p)).join(', ') || 'nothing'],
      ['Last maintenance', t.lastMaintenance ? JSON.stringify(t.lastMaintenance) : 'none since Tarn started'],
      ['Lineage', link('#/lineage?table=' + seg(name), 'where its rows come from')],
    ]),
    h('div', { class: 'row small' }, maintain), out,
    h('h3', {}, 'Columns'),
    table([
      { title: 'Column', value: (c) => c.name },
      { title: 'Type', value: (c) => c.type },
      { title: 'Required', value: (c) => (c.required ? 'yes' : 'no') },
    ], t.columns || []),
    h('h3', {}, 'Snapshots: rows over time'),
    timeline,
    h('h3', {}, 'Files of the current snapshot by size'),
    files,
    h('h3', {}, 'Snapshots'),
    h('div', { class: 'scroll' }, table([
      { title: 'Snapshot', value: (s) => s.id, num: true },
      { title: 'Committed', value: (s) => time(s.committedAt) },
      { title: 'Operation', value: (s) => s.operation },
      { title: 'Rows added', value: (s) => count(s.addedRows), num: true },
      { title: 'Rows in total', value: (s) => count(s.totalRows), num: true },
    ], snapshots.snapshots, { id: 'snapshots' })),
    h('h3', {}, 'Preview'),
    preview,
  );
  const ordered = [...snapshots.snapshots].reverse();
  chart(timeline, {
    x: ordered.map((s) => Date.parse(s.committedAt) / 1000),
    series: [{ label: 'rows', values: ordered.map((s) => s.totalRows) }],
    kind: 'line',
  });
  const sizes = await get('/v1/tables/' + seg(name) + '/files');
  chart(files, {
    x: sizes.sizes.map((b, i) => i),
    time: false,
    xLabels: sizes.sizes.map((b) => (b.upToBytes === null ? 'larger' : 'up to ' + bytes(b.upToBytes))),
    series: [
      { label: 'data files', values: sizes.sizes.map((b) => b.dataFiles) },
      { label: 'delete files', values: sizes.sizes.map((b) => b.deleteFiles) },
    ],
    kind: 'bar',
    height: 200,
  });
  try {
    const rows = await post('/v1/query', { sql: 'SELECT * FROM lake.' + name + ' LIMIT 20' });
    preview.append(resultGrid(rows));
  } catch (e) {
    preview.append(errorBox(e));
  }
}

function resultGrid(result) {
  return h('div', { class: 'scroll' }, table(
    result.columns.map((c, i) => ({
      title: c,
      value: (row) => (row[i] === null ? 'null' : typeof row[i] === 'object' ? JSON.stringify(row[i]) : String(row[i])),
      num: result.rows.length > 0 && typeof result.rows[0][i] === 'number',
    })),
    result.rows,
    { id: 'result' },
  ));
}

// ---------------------------------------------------------------- SQL

const HISTORY = 'tarn.history';

async function sql(root, rest, query, ctx) {
  const editorBox = h('div', { id: 'sql-editor' });
  const engine = h('select', { name: 'engine' }, h('option', { value: 'duckdb' }, 'lake (DuckDB)'),
    h('option', { value: 'flink' }, 'Flink (lake and streams)'));
  const fresh = h('input', { type: 'checkbox', name: 'fresh' });
  const run = h('button', { type: 'button', id: 'run' }, 'Run (Ctrl-Enter)');
  const status = h('div', { id: 'query-status' });
  const grid = h('div');
  const plotBox = h('div', { class: 'chart', id: 'result-chart' });
  const chartControls = h('div', { class: 'row small' });
  const history = h('div');
  let result = null;
  const drawHistory = () => {
    const list = JSON.parse(localStorage.getItem(HISTORY) || '[]');
    fill(history, list.length === 0 ? h('p', { class: 'muted' }, 'No queries yet.')
      : h('ul', {}, list.map((text) => h('li', {}, h('a', {
        href: '#/sql',
        onclick: (event) => {
          event.preventDefault();
          editor.setValue(text);
        },
      }, text)))));
  };
  const drawChart = (xColumn, yColumn, kind) => {
    fill(plotBox);
    const xi = result.columns.indexOf(xColumn);
    const yi = result.columns.indexOf(yColumn);
    const numericX = result.rows.every((r) => typeof r[xi] === 'number');
    const rows = numericX ? [...result.rows].sort((a, b) => a[xi] - b[xi]) : result.rows;
    chart(plotBox, {
      x: rows.map((r, i) => (numericX ? r[xi] : i)),
      time: false,
      xLabels: numericX ? undefined : rows.map((r) => String(r[xi])),
      series: [{ label: yColumn, values: rows.map((r) => (typeof r[yi] === 'number' ? r[yi] : Number(r[yi]))) }],
      kind,
    });
  };
  const execute = async () => {
    const text = editor.getValue();
    fill(status, h('p', { 'aria-busy': 'true' }, 'Running…'));
    fill(grid);
    fill(plotBox);
    fill(chartControls);
    try {
      const body = { sql: text, engine: engine.value };
      if (fresh.checked) {
        body.fresh = true;
      }
      result = await post('/v1/query', body);
      const list = JSON.parse(localStorage.getItem(HISTORY) || '[]').filter((q) => q !== text);
      localStorage.setItem(HISTORY, JSON.stringify([text, ...list].slice(0, 20)));
      drawHistory();
      fill(status, h('p', { class: 'muted' }, count(result.rows.length) + ' rows',
        result.truncated ? ' (cut at the row limit)' : '', ' · ', result.engine, ' · ', count(result.elapsedMs), ' ms'));
      fill(grid, resultGrid(result));
      const download = h('button', { type: 'button', id: 'csv' }, 'CSV');
      download.addEventListener('click', () => {
        const a = h('a', {
          href: URL.createObjectURL(new Blob([csv(result.columns, result.rows)], { type: 'text/csv' })),
          download: 'result.csv',
        });
        a.click();
        setTimeout(() => URL.revokeObjectURL(a.href), 1000);
      });
      const numeric = result.columns.filter((c, i) => result.rows.length > 0 && result.rows.every((r) => typeof r[i] === 'number'));
      if (numeric.length > 0 && result.rows.length > 0) {
        const x = h('select', { name: 'x' }, result.columns.map((c) => h('option', { value: c }, c)));
        const y = h('select', { name: 'y' }, numeric.map((c) => h('option', { value: c }, c)));
        const kind = h('select', { name: 'kind' }, ['bar', 'line', 'area'].map((k) => h('option', { value: k }, k)));
        if (result.columns.length > 1 && x.value === y.value) {
          x.value = result.columns.find((c) => c !== y.value);
        }
        const redraw = () => drawChart(x.value, y.value, kind.value);
        [x, y, kind].forEach((select) => select.addEventListener('change', redraw));
        chartControls.append(h('label', {}, 'x', x), h('label', {}, 'y', y), h('label', {}, 'chart', kind), download);
        redraw();
      } else {
        chartControls.append(download);
      }
    } catch (e) {
      fill(status, errorBox(e));
    }
  };
  run.addEventListener('click', execute);
  root.append(
    h('h2', {}, 'SQL'),
    editorBox,
    h('div', { class: 'row small' }, h('label', {}, 'Engine', engine), h('label', {}, fresh, ' fresh (up to the log\'s head)'), run),
    status,
    chartControls,
    plotBox,
    grid,
    h('h3', {}, 'History'),
    history,
  );
  const editor = sqlEditor(editorBox, query.get('q') || 'SELECT 1', await completions(), execute);
  drawHistory();
}

// ---------------------------------------------------------------- sources

async function sources(root, rest, query, ctx) {
  if (rest.length > 0) {
    return source(root, rest[0], ctx);
  }
  const list = h('div');
  const draw = async () => {
    const answer = await get('/v1/sources');
    fill(list, answer.sources.length === 0
      ? h('p', { class: 'muted' }, 'No sources. tarn sources create (or POST /v1/sources) captures a PostgreSQL or MariaDB database.')
      : table([
        { title: 'Source', value: (s) => link('#/sources/' + seg(s.name), s.name) },
        { title: 'Type', value: (s) => s.type },
        { title: 'State', value: (s) => state(s.state) },
        { title: 'Records', value: (s) => count(s.records), num: true },
        { title: 'Bytes behind', value: (s) => (s.lag ? bytes(s.lag.bytesBehind) : '–'), num: true },
        { title: 'Last error', value: (s) => s.lastError || '', wrap: true },
      ], answer.sources, { id: 'sources' }));
  };
  root.append(h('h2', {}, 'Sources'), list);
  await draw();
  ctx.every(3000, draw);
}

async function source(root, name, ctx) {
  const body = h('div');
  root.append(h('h2', {}, 'Source ', name), body);
  const draw = async () => {
    const s = await get('/v1/sources/' + seg(name));
    const snap = s.snapshot || {};
    fill(body,
      facts([
        ['Type', s.type],
        ['State', state(s.state)],
        ['Tables', (s.tables || []).join(', ')],
        ['Snapshot', snap.completed ? 'complete' : snap.running
          ? 'running: ' + count((snap.tables || 0) - (snap.remainingTables || 0)) + ' of ' + count(snap.tables) + ' tables'
          : 'not started'],
        ['Records since start', count(s.records)],
        ['Captured position', s.lag ? s.lag.captured : '–'],
        ['Bytes behind', s.lag ? bytes(s.lag.bytesBehind) : '–'],
        ['Retained WAL', s.lag && s.lag.retainedBytes !== undefined ? bytes(s.lag.retainedBytes) : '–'],
        ['Mirror pipeline', s.mirrorPipeline ? link('#/pipelines/' + seg(s.mirrorPipeline), s.mirrorPipeline) : 'none'],
        ['Last error', s.lastError || 'none'],
        ['Warnings', (s.warnings || []).join('; ') || 'none'],
      ]),
      h('h3', {}, 'Rows scanned by the snapshot'),
      table([
        { title: 'Table', value: (e) => e[0] },
        { title: 'Rows', value: (e) => count(e[1]), num: true },
      ], Object.entries(snap.rowsScanned || {})),
      h('h3', {}, 'Topics and mirror tables'),
      table([
        { title: 'Captured table', value: (e) => e[0] },
        { title: 'Topic', value: (e) => link('#/topics/' + seg(e[1]), e[1]) },
        { title: 'Lake table', value: (e) => ((s.lakeTables || {})[e[0]] ? link('#/tables/' + seg(s.lakeTables[e[0]]), s.lakeTables[e[0]]) : '–') },
      ], Object.entries(s.topics || {})),
    );
  };
  await draw();
  ctx.every(3000, draw);
}

// ---------------------------------------------------------------- views

async function views(root, rest, query, ctx) {
  if (rest.length > 0) {
    return view(root, rest[0], ctx);
  }
  const answer = await get('/v1/views');
  root.append(h('h2', {}, 'Live views'), answer.views.length === 0
    ? h('p', { class: 'muted' }, 'No views. POST /v1/views makes one from a Flink SQL query.')
    : table([
      { title: 'View', value: (v) => link('#/views/' + seg(v.name), v.name) },
      { title: 'State', value: (v) => state(v.state) },
      { title: 'Rows', value: (v) => count(v.rows), num: true },
      { title: 'Key', value: (v) => (v.key || []).join(', ') },
    ], answer.views, { id: 'views' }));
}

async function view(root, name, ctx) {
  const body = h('div');
  root.append(h('h2', {}, 'View ', name), body);
  const draw = async () => {
    const [v, rows] = await Promise.all([get('/v1/views/' + seg(name) + '/status'), get('/v1/views/' + seg(name) + '?limit=50')]);
    fill(body,
      facts([
        ['State', state(v.state)],
        ['Rows', count(v.rows)],
        ['Key', (v.key || []).join(', ')],
        ['Freshness', v.freshness ? JSON.stringify(v.freshness) : '–'],
        ['Skipped records', count(v.skippedRecords)],
        ['History table', v.history || 'none'],
        ['Last error', v.lastError || 'none'],
        ['SQL', h('code', {}, v.sql)],
      ]),
      h('h3', {}, 'Rows (first 50 by key)'),
      table((v.columns || []).map((c) => ({
        title: c.name,
        value: (row) => (row[c.name] === null || row[c.name] === undefined ? 'null' : String(row[c.name])),
      })), rows.rows || []),
    );
  };
  await draw();
  ctx.every(2000, draw);
}

// ---------------------------------------------------------------- lineage

async function lineage(root, rest, query, ctx) {
  const kinds = ['table', 'topic', 'pipeline', 'view', 'source'];
  const kind = kinds.find((k) => query.has(k));
  const picker = h('select', { name: 'kind' }, kinds.map((k) => h('option', { value: k, selected: k === kind }, k)));
  const nameInput = h('input', { name: 'name', value: kind ? query.get(kind) : '', placeholder: 'shop.orders' });
  root.append(h('h2', {}, 'Lineage'), h('form', {
    class: 'row small',
    onsubmit: (event) => {
      event.preventDefault();
      location.hash = '#/lineage?' + picker.value + '=' + encodeURIComponent(nameInput.value.trim());
    },
  }, h('label', {}, 'Of a', picker), h('label', {}, 'named', nameInput), h('button', { type: 'submit' }, 'Show')));
  if (!kind) {
    return;
  }
  const answer = await get('/v1/lineage?' + kind + '=' + encodeURIComponent(query.get(kind)));
  const page = { table: 'tables', topic: 'topics', pipeline: 'pipelines', view: 'views', source: 'sources' };
  root.append(
    graph(
      answer.nodes.map((n) => ({ id: n.id, kind: n.direction === 'root' ? 'root' : '', lines: [n.kind, n.name], title: n.id })),
      answer.edges.map((e) => ({ from: e.from, to: e.to })),
    ),
    answer.hidden > 0 ? h('p', { class: 'muted' }, answer.hidden + ' nodes your token may not read are left out.') : null,
    h('h3', {}, 'Nodes'),
    table([
      { title: 'Kind', value: (n) => n.kind },
      { title: 'Name', value: (n) => (n.kind === 'source' ? n.name : link('#/' + page[n.kind] + '/' + seg(n.name), n.name)) },
      { title: 'Direction', value: (n) => n.direction },
    ], answer.nodes, { id: 'lineage-nodes' }),
    h('h3', {}, 'Columns'),
    table([
      { title: 'From', value: (c) => c.from },
      { title: 'To', value: (c) => c.to },
      { title: 'Computed by', value: (c) => c.pipeline || '–' },
    ], answer.columns || []),
  );
}

export const pages = { overview, topics, pipelines, tables, sql, sources, views, lineage };
