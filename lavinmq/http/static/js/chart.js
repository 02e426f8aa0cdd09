// A small SVG time-series chart: lines (or stacked areas) over a sliding time window.

import { clear, fmt, h, svg } from './dom.js'

export const COLORS = ['#2f7ed8', '#e0593f', '#2e9d57', '#9b59d0', '#d99a00', '#0f9aa0', '#7b8794']
const MARGIN = { top: 10, right: 12, bottom: 24, left: 52 }
const TIME_STEPS = [5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600].map(s => s * 1000)

/** The y axis step: a "round" number (1, 2, 2.5, 5 x 10^n, at least 1) so 4 steps cover ``top``. */
function niceStep (top) {
  const raw = top / 4
  if (raw <= 1) return 1
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  return [1, 2, 2.5, 5, 10].map(m => m * magnitude).find(s => s >= raw)
}

function clock (ms, seconds) {
  const d = new Date(ms)
  const pad = n => String(n).padStart(2, '0')
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`
  return seconds ? `${hm}:${pad(d.getSeconds())}` : hm
}

export class LineChart {
  /**
   * @param el container element
   * @param opts.series [{ key, label }] in drawing order
   * @param opts.format formats y axis labels; ``legendFormat`` the legend's latest values
   */
  constructor (el, { title, series, format = fmt.short, legendFormat, stacked = false, windowMs = 300000 }) {
    this.series = series.map((s, i) => ({ color: COLORS[i % COLORS.length], ...s }))
    this.format = format
    this.legendFormat = legendFormat || format
    this.stacked = stacked
    this.windowMs = windowMs
    this.title = title
    this.points = []
    this.plot = h('div', { class: 'chart-plot' })
    this.legend = h('ul', { class: 'chart-legend' })
    clear(el, this.plot, this.legend)
    el.classList.add('chart')
    this.resize = new ResizeObserver(() => this.render())
    this.resize.observe(this.plot)
  }

  /** ``points``: [{ t: ms, v: { key: number } }], oldest first. */
  update (points) {
    this.points = points
    this.render()
  }

  dispose () {
    this.resize.disconnect()
  }

  render () {
    const width = Math.max(this.plot.clientWidth, 200)
    const height = 190
    const w = width - MARGIN.left - MARGIN.right
    const ht = height - MARGIN.top - MARGIN.bottom
    const last = this.points.length ? this.points[this.points.length - 1].t : Date.now()
    const t0 = last - this.windowMs
    const visible = this.points.filter(p => p.t >= t0)
    const stacks = this.stack(visible)
    const top = Math.max(0, ...stacks.flatMap(s => s.map(p => p.hi)))
    const yMax = niceStep(top) * 4
    const x = t => MARGIN.left + ((t - t0) / this.windowMs) * w
    const y = v => MARGIN.top + ht - (v / yMax) * ht
    const root = svg('svg', {
      width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': this.summary()
    })
    for (let i = 0; i <= 4; i++) {
      const v = (yMax * i) / 4
      root.append(
        svg('line', { class: 'grid', x1: MARGIN.left, x2: width - MARGIN.right, y1: y(v), y2: y(v) }),
        svg('text', { class: 'tick', x: MARGIN.left - 6, y: y(v) + 4, 'text-anchor': 'end' },
          this.format(v)))
    }
    const step = TIME_STEPS.find(s => this.windowMs / s <= 6) || TIME_STEPS.at(-1)
    for (let t = Math.ceil(t0 / step) * step; t <= last; t += step) {
      root.append(svg('text', { class: 'tick', x: x(t), y: height - 6, 'text-anchor': 'middle' },
        clock(t, step < 60000)))
    }
    this.series.forEach((s, i) => {
      const pts = stacks[i]
      if (!pts.length) return
      const line = pts.map((p, j) => `${j ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.hi).toFixed(1)}`)
      if (this.stacked) {
        const base = pts.slice().reverse().map(p => `L${x(p.t).toFixed(1)},${y(p.lo).toFixed(1)}`)
        root.append(svg('path', { class: 'area', d: line.join('') + base.join('') + 'Z', fill: s.color }))
      }
      root.append(svg('path', { class: 'line', d: line.join(''), stroke: s.color, 'data-key': s.key }))
    })
    clear(this.plot, root)
    this.renderLegend()
  }

  stack (points) {
    const lows = points.map(() => 0)
    return this.series.map(s => points.map((p, j) => {
      const v = Math.max(0, p.v[s.key] || 0)
      const lo = this.stacked ? lows[j] : 0
      if (this.stacked) lows[j] += v
      return { t: p.t, lo, hi: lo + v }
    }))
  }

  latest (key) {
    const p = this.points[this.points.length - 1]
    return p ? p.v[key] || 0 : 0
  }

  summary () {
    return `${this.title}: ` + this.series.map(s => `${s.label} ${this.legendFormat(this.latest(s.key))}`).join(', ')
  }

  renderLegend () {
    clear(this.legend, this.series.map(s => h('li', { 'data-key': s.key },
      h('span', { class: 'swatch', 'data-color': s.color }),
      h('span', { class: 'label' }, s.label),
      h('span', { class: 'value' }, this.legendFormat(this.latest(s.key))))))
    // colours through CSSOM: the page's CSP forbids inline style attributes
    this.legend.querySelectorAll('.swatch').forEach(el => { el.style.background = el.dataset.color })
  }
}

/**
 * Per-second rates from RabbitMQ ``*_details.samples`` (cumulative, newest first) of
 * several counters that share timestamps: [{ t, v: { key: rate } }], oldest first.
 */
export function ratesFromSamples (stats, keys) {
  const series = keys.map(k => (stats?.[`${k}_details`]?.samples) || [])
  const longest = series.reduce((a, b) => (b.length > a.length ? b : a), [])
  const out = []
  for (let i = longest.length - 2; i >= 0; i--) {
    const t = longest[i].timestamp
    const dt = (t - longest[i + 1].timestamp) / 1000
    if (dt <= 0) continue
    const v = {}
    keys.forEach((k, j) => {
      const s = series[j]
      v[k] = s[i] && s[i + 1] ? Math.max(0, (s[i].sample - s[i + 1].sample) / dt) : 0
    })
    out.push({ t, v })
  }
  return out
}

/** Gauge values (queue lengths) from ``*_details.samples``: [{ t, v: { key: value } }]. */
export function valuesFromSamples (stats, keys) {
  const series = keys.map(k => (stats?.[`${k}_details`]?.samples) || [])
  const longest = series.reduce((a, b) => (b.length > a.length ? b : a), [])
  const out = []
  for (let i = longest.length - 1; i >= 0; i--) {
    const v = {}
    keys.forEach((k, j) => { v[k] = series[j][i]?.sample || 0 })
    out.push({ t: longest[i].timestamp, v })
  }
  return out
}
