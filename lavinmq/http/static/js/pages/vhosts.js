// Virtual hosts: messages and rates per vhost; add and delete (administrators).

import { del, put, url } from '../api.js'
import { add, card, confirm, fmt, h, toast } from '../dom.js'
import { field, forgetVhosts, form, input } from '../forms.js'
import { DataTable } from '../table.js'
import { rate } from '../widgets.js'

export default async function vhosts (ctx) {
  const admin = [].concat(ctx.whoami.tags).join(',').includes('administrator')
  const columns = [
    { label: 'Name', sort: 'name', render: r => r.name },
    { label: 'Description', render: r => r.description || '' },
    { label: 'Ready', sort: 'messages_ready', num: true, render: r => fmt.num(r.messages_ready) },
    { label: 'Unacked', sort: 'messages_unacknowledged', num: true, render: r => fmt.num(r.messages_unacknowledged) },
    { label: 'Total', sort: 'messages', num: true, render: r => fmt.num(r.messages) },
    { label: 'Publish', sort: 'message_stats.publish_details.rate', num: true, render: r => rate(r.message_stats, 'publish') },
    { label: 'Deliver/get', sort: 'message_stats.deliver_get_details.rate', num: true, render: r => rate(r.message_stats, 'deliver_get') }
  ]
  if (admin) {
    columns.push({
      label: h('span', { class: 'sr-only' }, 'Actions'),
      render: r => h('button', {
        type: 'button',
        class: 'btn btn-small btn-danger',
        async onclick () {
          if (!await confirm(`Delete the virtual host ${r.name} with all its queues, exchanges and messages?`)) return
          await del(url`/api/vhosts/${r.name}`)
          forgetVhosts()
          toast(`Virtual host ${r.name} deleted`)
          await table.invalidate()
        }
      }, 'Delete')
    })
  }
  const table = new DataTable({ id: 'vhosts', caption: 'Virtual hosts', path: () => '/api/vhosts', sort: 'name', rowKey: r => r.name, columns })
  add(ctx.main,
    ctx.title('Virtual hosts'),
    card('All virtual hosts', table.el),
    admin
      ? card('Add a virtual host', form({
        id: 'add-vhost',
        submit: 'Add virtual host',
        fields: [h('div', { class: 'form-row' },
          field('Name', input('name', { required: true })),
          field('Description', input('description')),
          field('Tags', input('tags', { placeholder: 'comma, separated' })))],
        async onSubmit (v, el) {
          await put(url`/api/vhosts/${v.name}`, { description: v.description, tags: v.tags })
          forgetVhosts()
          el.reset()
          await table.invalidate()
        },
        done: v => `Virtual host ${v.name} added`
      }))
      : null)
  ctx.every(() => table.refresh())
}
