// Overview: object totals, message rates and queued messages over time, the node.

import { get, query } from '../api.js'
import { LineChart } from '../chart.js'
import { add, card, clear, details, fmt, h } from '../dom.js'
import { RATES_AGE, rateChart } from '../widgets.js'

const RATES = [
  ['publish', 'Publish'],
  ['confirm', 'Confirm'],
  ['deliver', 'Deliver'],
  ['get', 'Get'],
  ['redeliver', 'Redeliver'],
  ['ack', 'Ack']
]
const TOTALS = [
  ['connections', 'Connections', '#/connections'],
  ['channels', 'Channels', '#/channels'],
  ['consumers', 'Consumers', '#/queues'],
  ['exchanges', 'Exchanges', '#/exchanges'],
  ['queues', 'Queues', '#/queues']
]
// The API has no history of queue lengths: keep what this page saw, across visits.
const lengths = []

export default async function overview (ctx) {
  const totals = h('div', { class: 'totals', id: 'totals' })
  const ratesEl = h('div', { id: 'rates-chart' })
  const queuedEl = h('div', { id: 'queued-chart' })
  const node = h('div')
  add(ctx.main,
    ctx.title('Overview'),
    totals,
    h('div', { class: 'grid' },
      card('Message rates', ratesEl),
      card('Queued messages', queuedEl)),
    card('Node', node))
  const rates = rateChart(ratesEl, 'Message rates', RATES)
  const queued = new LineChart(queuedEl, {
    title: 'Queued messages',
    series: [{ key: 'ready', label: 'Ready' }, { key: 'unacked', label: 'Unacked' }],
    legendFormat: fmt.num,
    stacked: true,
    windowMs: RATES_AGE * 1000
  })
  ctx.signal.addEventListener('abort', () => { rates.chart.dispose(); queued.dispose() })

  ctx.every(async () => {
    const o = await get(query('/api/overview', { msg_rates_age: RATES_AGE, msg_rates_incr: 1 }), { signal: ctx.signal })
    const q = o.queue_totals
    clear(totals,
      TOTALS.map(([key, label, href]) => total(key, label, o.object_totals[key], href)),
      total('messages_ready', 'Ready messages', q.messages_ready),
      total('messages_unacknowledged', 'Unacked messages', q.messages_unacknowledged))
    rates.update(o.message_stats)
    const now = Date.now()
    lengths.push({ t: now, v: { ready: q.messages_ready, unacked: q.messages_unacknowledged } })
    while (lengths.length && lengths[0].t < now - RATES_AGE * 1000) lengths.shift()
    queued.update(lengths)
    clear(node, details([
      ['Product', `${o.product_name} ${o.product_version}`],
      ['Node', o.node],
      ['Cluster name', o.cluster_name],
      ['Runtime', o.erlang_version],
      ['Uptime', fmt.duration(o.uptime)],
      ['Listeners', o.listeners.map(l => `${l.protocol} ${l.ip_address}:${l.port}`).join(', ')]
    ]))
  })
}

function total (key, label, value, href) {
  const body = [h('span', { class: 'value' }, fmt.num(value)), h('span', { class: 'label' }, label)]
  return h('div', { class: 'total', id: `total-${key}` }, href ? h('a', { href }, body) : body)
}
