// One queue: details, rates, lengths, consumers, bindings; publish, get, pause, purge and delete.

import { del, get, post, put, query, url } from '../api.js'
import { LineChart, valuesFromSamples } from '../chart.js'
import { add, card, clear, confirm, details, fmt, h, toast } from '../dom.js'
import { field, form, input, select } from '../forms.js'
import { RATES_AGE, bindForm, bindingsCard, features, link, publishForm, rateChart } from '../widgets.js'

const ACK_MODES = [
  ['ack_requeue_true', 'Requeue'],
  ['reject_requeue_true', 'Reject, requeue'],
  ['ack_requeue_false', 'Ack (remove)'],
  ['reject_requeue_false', 'Reject (dead-letter)']
]

export default async function queue (ctx) {
  const [vhost, name] = ctx.params
  const base = url`/api/queues/${vhost}/${name}`
  const load = () => get(query(base, {
    msg_rates_age: RATES_AGE, msg_rates_incr: 1, lengths_age: RATES_AGE, lengths_incr: 1
  }), { signal: ctx.signal })
  let loaded = await load() // a missing queue shows "Not found" instead of an empty page

  const info = h('div')
  const consumers = h('div')
  const ratesEl = h('div', { id: 'queue-rates-chart' })
  const lengthsEl = h('div', { id: 'queue-lengths-chart' })
  const bindings = bindingsCard(url`/api/queues/${vhost}/${name}/bindings`, 'destination')
  const pause = h('button', { type: 'button', class: 'btn', id: 'pause-queue' }, 'Pause')
  const purge = h('button', { type: 'button', class: 'btn', id: 'purge-queue' }, 'Purge')
  const remove = h('button', { type: 'button', class: 'btn btn-danger', id: 'delete-queue' }, 'Delete')
  const results = h('div', { class: 'messages', id: 'messages', 'aria-live': 'polite' })

  const title = ctx.title(name)
  title.append(' ', h('small', {}, `queue in ${vhost}`))
  add(ctx.main,
    title,
    h('div', { class: 'actions card' }, pause, purge, remove),
    h('div', { class: 'grid' }, card('Details', info), card('Message rates', ratesEl)),
    h('div', { class: 'grid' }, card('Queued messages', lengthsEl), card('Consumers', consumers)),
    card('Bindings', bindings.el, h('h3', {}, 'Add binding'), bindForm(vhost, name, 'destination', bindings.reload)),
    h('div', { class: 'grid' },
      card('Publish message', h('p', { class: 'hint' }, 'Published through the default exchange, routed to this queue by its name.'),
        publishForm(vhost, '', name, () => refresh())),
      card('Get messages', getForm(vhost, name, results, () => refresh()), results)))

  const rates = rateChart(ratesEl, 'Message rates', [
    ['publish', 'Publish'], ['deliver', 'Deliver'], ['get', 'Get'], ['redeliver', 'Redeliver'], ['ack', 'Ack']
  ])
  const lengths = new LineChart(lengthsEl, {
    title: 'Queued messages',
    series: [{ key: 'messages_ready', label: 'Ready' }, { key: 'messages_unacknowledged', label: 'Unacked' }],
    legendFormat: fmt.num,
    stacked: true,
    windowMs: RATES_AGE * 1000
  })
  ctx.signal.addEventListener('abort', () => { rates.chart.dispose(); lengths.dispose() })

  pause.addEventListener('click', async () => {
    const action = pause.dataset.state === 'paused' ? 'resume' : 'pause'
    await put(`${base}/${action}`)
    toast(`Queue ${name} ${action === 'pause' ? 'paused: no deliveries until resumed' : 'resumed'}`)
    await refresh()
  })
  purge.addEventListener('click', async () => {
    if (!await confirm(`Remove all ready messages from ${name}?`, 'Purge')) return
    await del(`${base}/contents`)
    toast(`Queue ${name} purged`)
    await refresh()
  })
  remove.addEventListener('click', async () => {
    if (!await confirm(`Delete the queue ${name} and its messages?`)) return
    await del(base)
    toast(`Queue ${name} deleted`)
    ctx.navigate('#/queues')
  })

  async function refresh () {
    const q = loaded || await load()
    loaded = null
    clear(info, queueDetails(q))
    pause.dataset.state = q.state
    pause.textContent = q.state === 'paused' ? 'Resume' : 'Pause'
    rates.update(q.message_stats)
    lengths.update(valuesFromSamples(q, ['messages_ready', 'messages_unacknowledged']))
    clear(consumers, consumerTable(vhost, q.consumer_details || [], refresh))
    await bindings.reload()
  }
  ctx.every(refresh)
}

function queueDetails (q) {
  return details([
    ['Virtual host', q.vhost],
    ['Type', q.type],
    ['Features', features(q)],
    ['State', h('span', { class: `state-${q.state}` }, q.state)],
    ['Policy', q.policy || '–'],
    ['Effective policy', fmt.json(q.effective_policy_definition) || '–'],
    ['Consumers', fmt.num(q.consumers)],
    ['Ready', h('span', { id: 'queue-ready' }, fmt.num(q.messages_ready))],
    ['Unacked', fmt.num(q.messages_unacknowledged)],
    ['Total', h('span', { id: 'queue-messages' }, fmt.num(q.messages))],
    ['Message bytes', fmt.bytes(q.message_bytes)]
  ])
}

function consumerTable (vhost, rows, onCancel) {
  if (!rows.length) return h('p', { class: 'muted' }, 'No consumers')
  return h('table', { class: 'data' },
    h('thead', {}, h('tr', {}, ['Consumer tag', 'Channel', 'Ack required', 'Exclusive', 'Prefetch', '']
      .map(t => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.map(c => h('tr', {},
      h('td', { class: 'mono' }, c.consumer_tag),
      h('td', {}, c.channel_details.connection_name
        ? link.connection(c.channel_details.connection_name)
        : '–', c.channel_details.number ? ` (${c.channel_details.number})` : ''),
      h('td', {}, c.ack_required ? 'yes' : 'no'),
      h('td', {}, c.exclusive ? 'yes' : 'no'),
      h('td', { class: 'num' }, fmt.num(c.prefetch_count)),
      h('td', {}, c.channel_details.connection_name ? cancelButton(vhost, c, onCancel) : '')))))
}

function cancelButton (vhost, c, onCancel) {
  return h('button', {
    type: 'button',
    class: 'btn btn-small',
    async onclick () {
      const { connection_name: conn, number } = c.channel_details
      await del(url`/api/consumers/${vhost}/${conn}/${String(number)}/${c.consumer_tag}`)
      toast(`Consumer ${c.consumer_tag} cancelled`)
      await onCancel()
    }
  }, 'Cancel')
}

function getForm (vhost, name, results, onDone) {
  return form({
    id: 'get-form',
    submit: 'Get messages',
    fields: [
      h('div', { class: 'form-row' },
        field('Count', input('count', { type: 'number', min: 1, max: 10000, value: 1, required: true })),
        field('Ack mode', select('ackmode', ACK_MODES, 'ack_requeue_true'))),
      h('div', { class: 'form-row' },
        field('Encoding', select('encoding', [['auto', 'Auto (string or base64)'], ['base64', 'Base64']], 'auto')),
        field('Truncate at', input('truncate', { type: 'number', min: 0, value: 50000 }), 'bytes'))
    ],
    async onSubmit (v) {
      const body = { count: Number(v.count), ackmode: v.ackmode, encoding: v.encoding }
      if (v.truncate !== '') body.truncate = Number(v.truncate)
      const messages = await post(url`/api/queues/${vhost}/${name}/get`, body)
      clear(results, messages.length
        ? messages.map((m, i) => message(m, i + 1))
        : h('p', { class: 'muted' }, 'The queue is empty'))
      await onDone()
    }
  })
}

function message (m, n) {
  return h('article', { class: 'message' },
    h('h3', {}, `Message ${n}`),
    details([
      ['Exchange', m.exchange || '(AMQP default)'],
      ['Routing key', m.routing_key],
      ['Redelivered', m.redelivered ? 'yes' : 'no'],
      ['Properties', h('span', { class: 'mono' }, fmt.json(m.properties) || '–')],
      ['Payload', `${fmt.num(m.payload_bytes)} bytes, ${m.payload_encoding}`],
      ['Left in queue', fmt.num(m.message_count)]
    ]),
    h('pre', { class: 'payload' }, m.payload))
}
