// Queues: the listing (sort, filter, pages, bulk purge/delete) and the form to add one.

import { del, put, url } from '../api.js'
import { add, card, confirm, fmt, h, toast } from '../dom.js'
import { checkbox, field, form, input, jsonObject, textarea, vhostSelect } from '../forms.js'
import { DataTable } from '../table.js'
import { features, link, rate } from '../widgets.js'

const ARGUMENTS = [
  ['x-message-ttl', 60000],
  ['x-expires', 1800000],
  ['x-max-length', 10000],
  ['x-max-length-bytes', 1048576],
  ['x-overflow', 'reject-publish'],
  ['x-dead-letter-exchange', ''],
  ['x-dead-letter-routing-key', ''],
  ['x-max-priority', 10],
  ['x-single-active-consumer', true]
]

export default async function queues (ctx) {
  const purge = h('button', { type: 'button', class: 'btn btn-small', disabled: true }, 'Purge selected')
  const remove = h('button', { type: 'button', class: 'btn btn-small btn-danger', disabled: true }, 'Delete selected')
  const table = new DataTable({
    id: 'queues',
    caption: 'Queues',
    path: () => '/api/queues',
    sort: 'name',
    selectable: true,
    tools: [purge, remove],
    onSelect (rows) { purge.disabled = remove.disabled = !rows.length },
    fields: [
      'name', 'vhost', 'durable', 'auto_delete', 'exclusive', 'arguments', 'policy', 'consumers',
      'state', 'messages_ready', 'messages_unacknowledged', 'messages',
      'message_stats.publish_details.rate', 'message_stats.deliver_get_details.rate',
      'message_stats.ack_details.rate'
    ],
    columns: [
      { label: 'Virtual host', sort: 'vhost', render: r => r.vhost },
      { label: 'Name', sort: 'name', render: r => link.queue(r.vhost, r.name) },
      { label: 'Features', render: features },
      { label: 'Policy', sort: 'policy', render: r => r.policy || '' },
      { label: 'Consumers', sort: 'consumers', num: true, render: r => fmt.num(r.consumers) },
      { label: 'State', sort: 'state', render: r => h('span', { class: `state-${r.state}` }, r.state) },
      { label: 'Ready', sort: 'messages_ready', num: true, render: r => fmt.num(r.messages_ready) },
      { label: 'Unacked', sort: 'messages_unacknowledged', num: true, render: r => fmt.num(r.messages_unacknowledged) },
      { label: 'Total', sort: 'messages', num: true, render: r => fmt.num(r.messages) },
      { label: 'Publish', sort: 'message_stats.publish_details.rate', num: true, render: r => rate(r.message_stats, 'publish') },
      { label: 'Deliver/get', sort: 'message_stats.deliver_get_details.rate', num: true, render: r => rate(r.message_stats, 'deliver_get') },
      { label: 'Ack', sort: 'message_stats.ack_details.rate', num: true, render: r => rate(r.message_stats, 'ack') }
    ]
  })
  purge.addEventListener('click', () => bulk(table, 'Purge', q => del(url`/api/queues/${q.vhost}/${q.name}/contents`)))
  remove.addEventListener('click', () => bulk(table, 'Delete', q => del(url`/api/queues/${q.vhost}/${q.name}`)))

  add(ctx.main,
    ctx.title('Queues'),
    card('All queues', table.el),
    card('Add a queue', createForm(table)))
  ctx.every(() => table.refresh())
}

async function bulk (table, verb, action) {
  const rows = table.selected()
  const names = rows.map(r => r.name).join(', ')
  if (!await confirm(`${verb} ${rows.length} queue(s): ${names}?`, verb)) return
  const results = await Promise.allSettled(rows.map(action))
  const failed = results.filter(r => r.status === 'rejected')
  if (failed.length) toast(`${verb} failed: ${failed[0].reason.message}`, 'error')
  else toast(`${verb}d ${rows.length} queue(s)`)
  table.selection.clear()
  table.onSelect([])
  await table.invalidate()
}

function createForm (table) {
  const args = textarea('arguments', { rows: 3, placeholder: '{"x-message-ttl": 60000}' })
  const helpers = h('div', { class: 'actions' }, h('span', { class: 'hint' }, 'Add:'),
    ARGUMENTS.map(([key, value]) => h('button', {
      type: 'button',
      class: 'btn btn-small',
      onclick () {
        let current = {}
        try { current = jsonObject(args.value, 'Arguments') } catch { return }
        current[key] = value
        args.value = JSON.stringify(current, null, 1)
        args.focus()
      }
    }, key.replace(/^x-/, ''))))
  return form({
    id: 'add-queue',
    submit: 'Add queue',
    fields: [
      h('div', { class: 'form-row' },
        field('Virtual host', vhostSelect('vhost', { value: '/' })),
        field('Name', input('name', { required: true, maxlength: 255, id: 'queue-name' }))),
      h('div', { class: 'actions' }, checkbox('durable', 'Durable', true), checkbox('auto_delete', 'Auto-delete')),
      field('Arguments', args, 'A JSON object of x-arguments'),
      helpers
    ],
    async onSubmit (v, el) {
      await put(url`/api/queues/${v.vhost}/${v.name}`, {
        durable: v.durable,
        auto_delete: v.auto_delete,
        arguments: jsonObject(v.arguments, 'Arguments')
      })
      el.querySelector('[name=name]').value = ''
      await table.invalidate()
    },
    done: v => `Queue ${v.name} added`
  })
}
