// One connection: details, client properties, its channels; close it.

import { get, url } from '../api.js'
import { add, card, clear, details, fmt, h } from '../dom.js'
import { channelColumns } from './channels.js'
import { closeConnection } from './connections.js'
import { DataTable } from '../table.js'

export default async function connection (ctx) {
  const [name] = ctx.params
  const base = url`/api/connections/${name}`
  let loaded = await get(base, { signal: ctx.signal })
  const info = h('div')
  const client = h('div')
  const channels = new DataTable({
    id: 'connection-channels',
    caption: 'Channels',
    path: () => `${base}/channels`,
    sort: 'number',
    rowKey: r => r.name,
    columns: channelColumns()
  })
  const close = h('button', { type: 'button', class: 'btn btn-danger' }, 'Close connection')
  close.addEventListener('click', async () => {
    if (await closeConnection(name)) ctx.navigate('#/connections')
  })
  add(ctx.main,
    ctx.title(name),
    h('div', { class: 'actions card' }, close),
    h('div', { class: 'grid' }, card('Details', info), card('Client properties', client)),
    card('Channels', channels.el))

  ctx.every(async () => {
    const c = loaded || await get(base, { signal: ctx.signal })
    loaded = null
    clear(info, details([
      ['Virtual host', c.vhost],
      ['User', c.user],
      ['Protocol', c.protocol],
      ['Authentication', c.auth_mechanism],
      ['TLS', c.ssl ? 'yes' : 'no'],
      ['State', c.state],
      ['Peer', `${c.peer_host}:${c.peer_port}`],
      ['Connected at', fmt.time(c.connected_at)],
      ['Heartbeat', `${c.timeout} s`],
      ['Frame max', fmt.bytes(c.frame_max)],
      ['Channel max', fmt.num(c.channel_max)],
      ['From client', `${fmt.bytes(c.recv_oct_details?.rate ?? 0)}/s (${fmt.bytes(c.recv_oct)} total)`],
      ['To client', `${fmt.bytes(c.send_oct_details?.rate ?? 0)}/s (${fmt.bytes(c.send_oct)} total)`]
    ]))
    const props = c.client_properties || {}
    clear(client, details(Object.entries(props).map(([k, v]) => [k, typeof v === 'object' ? fmt.json(v) : String(v)])))
    await channels.refresh()
  })
}
