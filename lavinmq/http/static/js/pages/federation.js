// Federation: upstreams (``federation-upstream`` parameters) and the links policies made.

import { del, put, url } from '../api.js'
import { add, card, confirm, fmt, h, toast } from '../dom.js'
import { field, form, input, select, vhostSelect } from '../forms.js'
import { DataTable } from '../table.js'
import { scrub } from './shovels.js'

const ACK_MODES = [['on-confirm', 'On confirm'], ['on-publish', 'On publish'], ['no-ack', 'No ack']]

export default async function federation (ctx) {
  const upstreams = new DataTable({
    id: 'upstreams',
    caption: 'Upstreams',
    path: () => '/api/parameters/federation-upstream',
    sort: 'name',
    columns: [
      { label: 'Virtual host', sort: 'vhost', render: r => r.vhost },
      { label: 'Name', sort: 'name', render: r => r.name },
      { label: 'URI', render: r => h('span', { class: 'mono' }, [].concat(r.value.uri).map(scrub).join(', ')) },
      { label: 'Prefetch', num: true, render: r => fmt.num(r.value['prefetch-count'] ?? 1000) },
      { label: 'Ack mode', render: r => r.value['ack-mode'] || 'on-confirm' },
      { label: 'Max hops', num: true, render: r => fmt.num(r.value['max-hops'] ?? 1) },
      { label: 'Exchange / queue', render: r => [r.value.exchange, r.value.queue].filter(Boolean).join(' / ') },
      {
        label: h('span', { class: 'sr-only' }, 'Actions'),
        render: r => h('button', {
          type: 'button',
          class: 'btn btn-small btn-danger',
          async onclick () {
            if (!await confirm(`Delete the upstream ${r.name}? Its links stop.`)) return
            await del(url`/api/parameters/federation-upstream/${r.vhost}/${r.name}`)
            toast(`Upstream ${r.name} deleted`)
            await upstreams.invalidate()
          }
        }, 'Delete')
      }
    ]
  })
  const links = new DataTable({
    id: 'federation-links',
    caption: 'Links',
    path: () => '/api/federation-links',
    sort: 'upstream',
    filter: false,
    rowKey: r => `${r.vhost}\u0000${r.id}`,
    columns: [
      { label: 'Virtual host', sort: 'vhost', render: r => r.vhost },
      { label: 'Upstream', sort: 'upstream', render: r => r.upstream },
      { label: 'Federated', sort: 'resource', render: r => `${r.type} ${r.resource}` },
      { label: 'Upstream URI', render: r => h('span', { class: 'mono' }, r.uri) },
      { label: 'State', sort: 'status', render: r => h('span', { class: `state-${r.status}` }, r.status, r.error ? ` – ${r.error}` : '') },
      { label: 'Since', render: r => r.timestamp },
      {
        label: h('span', { class: 'sr-only' }, 'Actions'),
        render: r => h('button', {
          type: 'button',
          class: 'btn btn-small',
          async onclick () {
            await del(url`/api/federation-links/vhost/${r.vhost}/${r.id}/restart`)
            toast('Link restarted')
            await links.invalidate()
          }
        }, 'Restart')
      }
    ]
  })
  add(ctx.main,
    ctx.title('Federation'),
    h('p', { class: 'muted' }, 'A policy with "federation-upstream" or "federation-upstream-set" in its definition makes links for the exchanges and queues it matches.'),
    card('Upstreams', upstreams.el),
    card('Links', links.el),
    card('Add an upstream', upstreamForm(() => upstreams.invalidate())))
  ctx.every(() => Promise.all([upstreams.refresh(), links.refresh()]))
}

function upstreamForm (onChange) {
  const number = (name, attrs = {}) => input(name, { type: 'number', min: 0, ...attrs })
  return form({
    id: 'add-upstream',
    submit: 'Add upstream',
    className: 'wide',
    fields: [
      h('div', { class: 'form-row' },
        field('Virtual host', vhostSelect('vhost', { value: '/' })),
        field('Name', input('name', { required: true })),
        field('URI', input('uri', { required: true, placeholder: 'amqp://user:password@upstream-host' }))),
      h('div', { class: 'form-row' },
        field('Prefetch', number('prefetch-count', { value: 1000, min: 1 })),
        field('Reconnect delay (s)', number('reconnect-delay', { value: 1 })),
        field('Ack mode', select('ack-mode', ACK_MODES, 'on-confirm')),
        field('Max hops', number('max-hops', { value: 1, min: 1 }))),
      h('div', { class: 'form-row' },
        field('Exchange', input('exchange'), 'Upstream exchange name (default: the federated one\'s)'),
        field('Queue', input('queue'), 'Upstream queue name (default: the federated one\'s)'),
        field('Expires (ms)', number('expires')),
        field('Message TTL (ms)', number('message-ttl')))
    ],
    async onSubmit (v, el) {
      const value = { uri: v.uri, 'ack-mode': v['ack-mode'] }
      for (const k of ['prefetch-count', 'reconnect-delay', 'max-hops', 'expires', 'message-ttl']) {
        if (v[k] !== '') value[k] = Number(v[k])
      }
      for (const k of ['exchange', 'queue']) if (v[k]) value[k] = v[k]
      await put(url`/api/parameters/federation-upstream/${v.vhost}/${v.name}`, { value })
      el.reset()
      await onChange()
    },
    done: v => `Upstream ${v.name} added`
  })
}
