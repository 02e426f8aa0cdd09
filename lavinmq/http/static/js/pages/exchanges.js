// Exchanges: the listing and the form to add one.

import { get, put, url } from '../api.js'
import { add, card, h } from '../dom.js'
import { checkbox, field, form, input, jsonObject, select, textarea, vhostSelect } from '../forms.js'
import { DataTable } from '../table.js'
import { features, link, rate } from '../widgets.js'

export default async function exchanges (ctx) {
  const overview = await get('/api/overview', { signal: ctx.signal })
  const types = overview.exchange_types.map(t => t.name)
  const table = new DataTable({
    id: 'exchanges',
    caption: 'Exchanges',
    path: () => '/api/exchanges',
    sort: 'name',
    fields: [
      'name', 'vhost', 'type', 'durable', 'auto_delete', 'internal', 'arguments', 'policy',
      'message_stats.publish_in_details.rate', 'message_stats.publish_out_details.rate'
    ],
    columns: [
      { label: 'Virtual host', sort: 'vhost', render: r => r.vhost },
      { label: 'Name', sort: 'name', render: r => link.exchange(r.vhost, r.name) },
      { label: 'Type', sort: 'type', render: r => r.type },
      { label: 'Features', render: features },
      { label: 'Policy', sort: 'policy', render: r => r.policy || '' },
      { label: 'Message rate in', sort: 'message_stats.publish_in_details.rate', num: true, render: r => rate(r.message_stats, 'publish_in') },
      { label: 'Message rate out', sort: 'message_stats.publish_out_details.rate', num: true, render: r => rate(r.message_stats, 'publish_out') }
    ]
  })
  add(ctx.main,
    ctx.title('Exchanges'),
    card('All exchanges', table.el),
    card('Add an exchange', form({
      id: 'add-exchange',
      submit: 'Add exchange',
      fields: [
        h('div', { class: 'form-row' },
          field('Virtual host', vhostSelect('vhost', { value: '/' })),
          field('Name', input('name', { required: true, maxlength: 255 })),
          field('Type', select('type', types, 'direct'))),
        h('div', { class: 'actions' },
          checkbox('durable', 'Durable', true), checkbox('auto_delete', 'Auto-delete'), checkbox('internal', 'Internal')),
        field('Arguments', textarea('arguments', { placeholder: '{"alternate-exchange": "unrouted"}' }), 'A JSON object')
      ],
      async onSubmit (v, el) {
        await put(url`/api/exchanges/${v.vhost}/${v.name}`, {
          type: v.type,
          durable: v.durable,
          auto_delete: v.auto_delete,
          internal: v.internal,
          arguments: jsonObject(v.arguments, 'Arguments')
        })
        el.querySelector('[name=name]').value = ''
        await table.invalidate()
      },
      done: v => `Exchange ${v.name} added`
    })))
  ctx.every(() => table.refresh())
}
