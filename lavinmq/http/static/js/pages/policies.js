// Policies: the listing, add or update (the form doubles as the editor) and delete.

import { del, put, url } from '../api.js'
import { add, card, confirm, fmt, h, toast } from '../dom.js'
import { field, form, input, jsonObject, select, textarea, vhostSelect } from '../forms.js'
import { DataTable } from '../table.js'

const KEYS = [
  'message-ttl', 'expires', 'max-length', 'max-length-bytes', 'overflow', 'dead-letter-exchange',
  'dead-letter-routing-key', 'delivery-limit', 'alternate-exchange', 'federation-upstream',
  'federation-upstream-set'
]

export default async function policies (ctx) {
  const editor = policyForm(() => table.invalidate())
  const table = new DataTable({
    id: 'policies',
    caption: 'Policies',
    path: () => '/api/policies',
    sort: 'name',
    columns: [
      { label: 'Virtual host', sort: 'vhost', render: r => r.vhost },
      { label: 'Name', sort: 'name', render: r => r.name },
      { label: 'Pattern', sort: 'pattern', render: r => h('code', {}, r.pattern) },
      { label: 'Apply to', sort: 'apply-to', render: r => r['apply-to'] },
      { label: 'Definition', render: r => h('code', {}, fmt.json(r.definition)) },
      { label: 'Priority', sort: 'priority', num: true, render: r => fmt.num(r.priority) },
      {
        label: h('span', { class: 'sr-only' }, 'Actions'),
        render: r => h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'btn btn-small', onclick: () => editor.edit(r) }, 'Edit'),
          h('button', {
            type: 'button',
            class: 'btn btn-small btn-danger',
            async onclick () {
              if (!await confirm(`Delete the policy ${r.name}?`)) return
              await del(url`/api/policies/${r.vhost}/${r.name}`)
              toast(`Policy ${r.name} deleted`)
              await table.invalidate()
            }
          }, 'Delete'))
      }
    ]
  })
  add(ctx.main, ctx.title('Policies'), card('All policies', table.el), card('Add or update a policy', editor.el))
  ctx.every(() => table.refresh())
}

function policyForm (onChange) {
  const definition = textarea('definition', { rows: 4, placeholder: '{"max-length": 10000}', required: true })
  const helpers = h('div', { class: 'actions' }, h('span', { class: 'hint' }, 'Add:'),
    KEYS.map(key => h('button', {
      type: 'button',
      class: 'btn btn-small',
      onclick () {
        let current = {}
        try { current = jsonObject(definition.value, 'Definition') } catch { return }
        current[key] = ''
        definition.value = JSON.stringify(current, null, 1)
        definition.focus()
      }
    }, key)))
  const el = form({
    id: 'add-policy',
    submit: 'Save policy',
    fields: [
      h('div', { class: 'form-row' },
        field('Virtual host', vhostSelect('vhost', { value: '/' })),
        field('Name', input('name', { required: true }))),
      h('div', { class: 'form-row' },
        field('Pattern', input('pattern', { required: true, placeholder: '^orders\\.' }), 'A regular expression on queue/exchange names'),
        field('Apply to', select('apply-to', [['all', 'Exchanges and queues'], ['queues', 'Queues'], ['exchanges', 'Exchanges']], 'all')),
        field('Priority', input('priority', { type: 'number', value: 0 }))),
      field('Definition', definition, 'A JSON object'),
      helpers
    ],
    async onSubmit (v, form) {
      await put(url`/api/policies/${v.vhost}/${v.name}`, {
        pattern: v.pattern,
        'apply-to': v['apply-to'],
        priority: Number(v.priority || 0),
        definition: jsonObject(v.definition, 'Definition')
      })
      form.reset()
      await onChange()
    },
    done: v => `Policy ${v.name} saved`
  })
  return {
    el,
    edit (p) {
      for (const [name, value] of Object.entries({
        vhost: p.vhost, name: p.name, pattern: p.pattern, 'apply-to': p['apply-to'], priority: p.priority, definition: JSON.stringify(p.definition, null, 1)
      })) el.elements[name].value = value
      el.scrollIntoView({ behavior: 'smooth' })
      el.elements.pattern.focus()
    }
  }
}
