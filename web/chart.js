// A tiny SVG line chart of two series, drawn without any library.
'use strict';

function drawChart(svg, series, colors) {
  const NS = 'http://www.w3.org/2000/svg';
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const w = 600, h = 200, left = 32, bottom = 20, top = 10;
  const n = Math.max(...series.map((s) => s.length), 2);
  const max = Math.max(1, ...series.flat());
  const x = (i) => left + (i * (w - left - 8)) / (n - 1);
  const y = (v) => top + (h - top - bottom) * (1 - v / max);
  const line = (x1, y1, x2, y2, color) => {
    const l = document.createElementNS(NS, 'line');
    l.setAttribute('x1', x1); l.setAttribute('y1', y1); l.setAttribute('x2', x2); l.setAttribute('y2', y2);
    l.setAttribute('stroke', color); l.setAttribute('stroke-width', '1');
    svg.appendChild(l);
  };
  const text = (tx, ty, s) => {
    const t = document.createElementNS(NS, 'text');
    t.setAttribute('x', tx); t.setAttribute('y', ty); t.setAttribute('font-size', '10'); t.setAttribute('fill', '#5b6477');
    t.textContent = s;
    svg.appendChild(t);
  };
  for (const v of [0, Math.round(max / 2), max]) {
    line(left, y(v), w - 8, y(v), '#e4e7ee');
    text(4, y(v) + 3, String(v));
  }
  text(left, h - 4, '-' + (n - 1) + ' min');
  text(w - 40, h - 4, 'now');
  series.forEach((s, k) => {
    const p = document.createElementNS(NS, 'polyline');
    p.setAttribute('points', s.map((v, i) => x(i) + ',' + y(v)).join(' '));
    p.setAttribute('fill', 'none');
    p.setAttribute('stroke', colors[k]);
    p.setAttribute('stroke-width', '2');
    p.setAttribute('class', 'series-' + k);
    svg.appendChild(p);
  });
}
