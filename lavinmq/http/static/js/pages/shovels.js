// Shovels: ``shovel`` parameters with their live status; add, pause, restart and delete.

import { del, get, put, url } from '../api.js'
import { add, card, confirm, fmt, h, toast } from '../dom.js'
import { checkbox, field, form, input, select, vhostSelect } from '../forms.js'
import { DataTable } from '../table.js'

const ACK_MODES = [['on-confirm', 'On confirm'], ['on-publish', 'On publish'], ['no-ack', 'No ack']]

function pauseButton (r, paused, done) {
  const action = paused ? 'resume' : 'pause'
  return h('button', {
    type: 'button',
    class: 'btn btn-small',
    async onclick () {
      await put(url`/api/shovels/${r.vhost}/${r.name}/${action}`)
      toast(`Shovel ${r.name} ${paused ? 'resumed' : 'paused'}`)
      await done()
    }
  }, paused ? 'Resume' : 'Pause')
}

/** ``amqp://user:secret@host`` without the password, for display. */
export function scrub (uri) {
  return String(uri).replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')
}

function endpoint (kind, value) {
  const queue = value[`${kind}-queue`]
  const exchange = value[`${kind}-exchange`]
  const where = queue !== undefined
    ? `queue ${queue}`
    : `exchange ${exchange}${value[`${kind}-exchange-key`] ? ` (${value[`${kind}-exchange-key`]})` : ''}`
  return [h('div', { class: 'mono' }, scrub([].concat(value[`${kind}-uri`])[0])), h('div', {}, where)]
}

export default async function shovels (ctx) {
  let status = {}
  const table = new DataTable({
    id: 'shovels',
    caption: 'Shovels',
    path: () => '/api/parameters/shovel',
    sort: 'name',
    columns: [
      { label: 'Virtual host', sort: 'vhost', render: r => r.vhost },
      { label: 'Name', sort: 'name', render: r => r.name },
      { label: 'Source', render: r => endpoint('src', r.value) },
      { label: 'Destination', render: r => endpoint('dest', r.value) },
      { label: 'Ack mode', render: r => r.value['ack-mode'] || 'on-confirm' },
      { label: 'State', render: r => stateOf(status[key(r)]) },
      { label: 'Moved', num: true, render: r => fmt.num(status[key(r)]?.message_count) },
      {
        label: h('span', { class: 'sr-only' }, 'Actions'),
        render: r => h('div', { class: 'actions' },
          pauseButton(r, status[key(r)]?.state === 'paused', () => table.invalidate()),
          h('button', {
            type: 'button',
            class: 'btn btn-small',
            async onclick () {
              await del(url`/api/shovels/vhost/${r.vhost}/${r.name}/restart`)
              toast(`Shovel ${r.name} restarted`)
            }
          }, 'Restart'),
          h('button', {
            type: 'button',
            class: 'btn btn-small btn-danger',
            async onclick () {
              if (!await confirm(`Delete the shovel ${r.name}?`)) return
              await del(url`/api/parameters/shovel/${r.vhost}/${r.name}`)
              toast(`Shovel ${r.name} deleted`)
              await table.invalidate()
            }
          }, 'Delete'))
      }
    ]
  })
  add(ctx.main, ctx.title('Shovels'), card('All shovels', table.el), card('Add a shovel', addForm(() => table.invalidate())))
  ctx.every(async () => {
    const rows = await get('/api/shovels', { signal: ctx.signal })
    const next = Object.fromEntries(rows.map(s => [key(s), s]))
    if (JSON.stringify(next) !== JSON.stringify(status)) table.lastBody = ''
    status = next
    await table.refresh()
  })
}

function key (r) {
  return `${r.vhost}\u0000${r.name}`
}

function stateOf (s) {
  if (!s) return h('span', { class: 'muted' }, 'starting')
  return h('span', { class: `state-${s.state}`, title: s.error || '' }, s.state, s.error ? ` – ${s.error}` : '')
}

function addForm (onChange) {
  const side = (kind, label) => h('fieldset', { class: 'form-row' },
    h('legend', {}, label),
    field('URI', input(`${kind}-uri`, { value: 'amqp://', required: true }), 'amqp:// without a host is this broker'),
    field('Type', select(`${kind}-type`, [['queue', 'Queue'], ['exchange', 'Exchange']], 'queue')),
    field('Name', input(`${kind}-name`)),
    field('Routing key', input(`${kind}-exchange-key`), 'For an exchange'))
  return form({
    id: 'add-shovel',
    submit: 'Add shovel',
    className: 'wide',
    fields: [
      h('div', { class: 'form-row' },
        field('Virtual host', vhostSelect('vhost', { value: '/' })),
        field('Name', input('name', { required: true }))),
      side('src', 'Source'),
      side('dest', 'Destination'),
      h('div', { class: 'form-row' },
        field('Ack mode', select('ack-mode', ACK_MODES, 'on-confirm')),
        field('Prefetch', input('src-prefetch-count', { type: 'number', min: 1, value: 1000 })),
        field('Reconnect delay (s)', input('reconnect-delay', { type: 'number', min: 0, value: 5 })),
        field('Delete after', select('src-delete-after', [['never', 'Never'], ['queue-length', 'Queue length']], 'never'))),
      h('div', { class: 'actions' }, checkbox('dest-add-forward-headers', 'Add forwarding headers'))
    ],
    async onSubmit (v, el) {
      const value = {
        'ack-mode': v['ack-mode'],
        'src-prefetch-count': Number(v['src-prefetch-count']),
        'reconnect-delay': Number(v['reconnect-delay']),
        'src-delete-after': v['src-delete-after'],
        'dest-add-forward-headers': v['dest-add-forward-headers']
      }
      for (const kind of ['src', 'dest']) {
        value[`${kind}-uri`] = v[`${kind}-uri`]
        value[`${kind}-${v[`${kind}-type`]}`] = v[`${kind}-name`]
        if (v[`${kind}-type`] === 'exchange' && v[`${kind}-exchange-key`]) {
          value[`${kind}-exchange-key`] = v[`${kind}-exchange-key`]
        }
      }
      await put(url`/api/parameters/shovel/${v.vhost}/${v.name}`, { value })
      el.querySelector('[name=name]').value = ''
      await onChange()
    },
    done: v => `Shovel ${v.name} added`
  })
}
