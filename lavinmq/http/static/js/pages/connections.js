// Client connections: the listing, with a close button per connection.

import { del, url } from '../api.js'
import { add, card, confirm, fmt, h, toast } from '../dom.js'
import { DataTable } from '../table.js'
import { link } from '../widgets.js'

export async function closeConnection (name, reason = 'Closed via management UI') {
  if (!await confirm(`Close the connection ${name}?`, 'Close')) return false
  await del(url`/api/connections/${name}`, { headers: { 'X-Reason': reason } })
  toast('Connection closed')
  return true
}

export default async function connections (ctx) {
  const table = new DataTable({
    id: 'connections',
    caption: 'Connections',
    path: () => '/api/connections',
    sort: 'name',
    rowKey: r => r.name,
    fields: [
      'name', 'vhost', 'user', 'protocol', 'ssl', 'state', 'channels', 'client_properties.product',
      'client_properties.version', 'recv_oct_details.rate', 'send_oct_details.rate', 'connected_at'
    ],
    columns: [
      { label: 'Virtual host', sort: 'vhost', render: r => r.vhost },
      { label: 'Name', sort: 'name', render: r => link.connection(r.name) },
      { label: 'User', sort: 'user', render: r => r.user },
      { label: 'Client', sort: 'client_properties.product', render: r => [r.client_properties?.product, r.client_properties?.version].filter(Boolean).join(' ') },
      { label: 'Protocol', render: r => r.protocol + (r.ssl ? ' (TLS)' : '') },
      { label: 'State', sort: 'state', render: r => h('span', { class: `state-${r.state}` }, r.state) },
      { label: 'Channels', sort: 'channels', num: true, render: r => fmt.num(r.channels) },
      { label: 'From client', sort: 'recv_oct_details.rate', num: true, render: r => fmt.bytes(r.recv_oct_details?.rate ?? 0) + '/s' },
      { label: 'To client', sort: 'send_oct_details.rate', num: true, render: r => fmt.bytes(r.send_oct_details?.rate ?? 0) + '/s' },
      {
        label: h('span', { class: 'sr-only' }, 'Actions'),
        render: r => h('button', {
          type: 'button',
          class: 'btn btn-small btn-danger',
          async onclick () { if (await closeConnection(r.name)) await table.invalidate() }
        }, 'Close')
      }
    ]
  })
  add(ctx.main, ctx.title('Connections'), card('All connections', table.el))
  ctx.every(() => table.refresh())
}
