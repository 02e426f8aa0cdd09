// Channels: every open channel with its prefetch, unacked messages and rates.

import { add, card, fmt, h } from '../dom.js'
import { DataTable } from '../table.js'
import { link, rate, tags } from '../widgets.js'

export function channelColumns () {
  return [
    { label: 'Channel', sort: 'name', render: r => [link.connection(r.connection_details.name), ` (${r.number})`] },
    { label: 'Virtual host', sort: 'vhost', render: r => r.vhost },
    { label: 'User', sort: 'user', render: r => r.user },
    { label: 'Mode', render: r => tags([r.confirm && ['C', 'Confirm mode'], r.transactional && ['T', 'Transactional']]) },
    { label: 'State', sort: 'state', render: r => h('span', { class: `state-${r.state}` }, r.state) },
    { label: 'Consumers', sort: 'consumer_count', num: true, render: r => fmt.num(r.consumer_count) },
    { label: 'Prefetch', sort: 'prefetch_count', num: true, render: r => fmt.num(r.prefetch_count) },
    { label: 'Unacked', sort: 'messages_unacknowledged', num: true, render: r => fmt.num(r.messages_unacknowledged) },
    { label: 'Publish', sort: 'message_stats.publish_details.rate', num: true, render: r => rate(r.message_stats, 'publish') },
    { label: 'Confirm', sort: 'message_stats.confirm_details.rate', num: true, render: r => rate(r.message_stats, 'confirm') },
    { label: 'Deliver/get', sort: 'message_stats.deliver_get_details.rate', num: true, render: r => rate(r.message_stats, 'deliver_get') },
    { label: 'Ack', sort: 'message_stats.ack_details.rate', num: true, render: r => rate(r.message_stats, 'ack') }
  ]
}

export default async function channels (ctx) {
  const table = new DataTable({
    id: 'channels',
    caption: 'Channels',
    path: () => '/api/channels',
    sort: 'name',
    rowKey: r => r.name,
    columns: channelColumns()
  })
  add(ctx.main, ctx.title('Channels'), card('All channels', table.el))
  ctx.every(() => table.refresh())
}
