// One exchange: details, rates, bindings both ways, publish and delete.

import { del, get, query, url } from '../api.js'
import { add, card, clear, confirm, details, fmt, h, toast } from '../dom.js'
import { RATES_AGE, bindForm, bindingsCard, features, publishForm, rateChart } from '../widgets.js'

export default async function exchange (ctx) {
  const [vhost, name] = ctx.params
  const base = url`/api/exchanges/${vhost}/${name}`
  const load = () => get(query(base, { msg_rates_age: RATES_AGE, msg_rates_incr: 1 }), { signal: ctx.signal })
  let loaded = await load()
  const isDefault = loaded.name === ''
  const info = h('div')
  const ratesEl = h('div', { id: 'exchange-rates-chart' })
  const outgoing = bindingsCard(url`/api/exchanges/${vhost}/${name}/bindings/source`, 'source')
  const incoming = bindingsCard(url`/api/exchanges/${vhost}/${name}/bindings/destination`, 'destination')
  const remove = h('button', { type: 'button', class: 'btn btn-danger', id: 'delete-exchange' }, 'Delete')
  remove.addEventListener('click', async () => {
    if (!await confirm(`Delete the exchange ${name}?`)) return
    await del(base)
    toast(`Exchange ${name} deleted`)
    ctx.navigate('#/exchanges')
  })

  const title = ctx.title(isDefault ? '(AMQP default)' : name)
  title.append(' ', h('small', {}, `exchange in ${vhost}`))
  const editable = !isDefault && !name.startsWith('amq.')
  add(ctx.main,
    title,
    editable ? h('div', { class: 'actions card' }, remove) : null,
    h('div', { class: 'grid' }, card('Details', info), card('Message rates', ratesEl)),
    card('Bindings from this exchange', outgoing.el,
      isDefault ? null : [h('h3', {}, 'Add binding'), bindForm(vhost, name, 'source', outgoing.reload)]),
    isDefault ? null : card('Bindings to this exchange', incoming.el),
    card('Publish message', loaded.internal
      ? h('p', { class: 'muted' }, 'Internal exchanges do not take messages from clients.')
      : publishForm(vhost, name)))

  const rates = rateChart(ratesEl, 'Message rates', [['publish_in', 'In'], ['publish_out', 'Out']])
  ctx.signal.addEventListener('abort', () => rates.chart.dispose())

  ctx.every(async () => {
    const ex = loaded || await load()
    loaded = null
    clear(info, details([
      ['Virtual host', ex.vhost],
      ['Type', ex.type],
      ['Features', features(ex)],
      ['Policy', ex.policy || '–'],
      ['Arguments', fmt.json(ex.arguments) || '–']
    ]))
    rates.update(ex.message_stats)
    await Promise.all([outgoing.reload(), isDefault ? null : incoming.reload()])
  })
}
