// Definitions: download the broker's (or one vhost's) definitions, upload a file to import.

import { get, post, url } from '../api.js'
import { add, card, h } from '../dom.js'
import { field, forgetVhosts, form, vhostSelect } from '../forms.js'

function save (data, filename) {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' })
  const a = h('a', { href: URL.createObjectURL(blob), download: filename, hidden: true })
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(a.href), 1000)
}

export default async function definitions (ctx) {
  add(ctx.main,
    ctx.title('Definitions'),
    h('p', { class: 'muted' },
      'Users, virtual hosts, permissions, policies, parameters, exchanges, queues and bindings, in RabbitMQ\'s format.'),
    h('div', { class: 'grid' },
      card('Export', form({
        id: 'export-definitions',
        submit: 'Download',
        fields: field('Virtual host', vhostSelect('vhost', { all: true })),
        async onSubmit (v) {
          const data = await get(v.vhost ? url`/api/definitions/${v.vhost}` : '/api/definitions')
          const host = window.location.hostname.replace(/[^a-z0-9.-]/gi, '_')
          const scope = v.vhost ? `-${v.vhost.replace(/[^a-z0-9.-]/gi, '_') || 'default'}` : ''
          save(data, `lavinmq-definitions-${host}${scope}-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`)
        },
        done: 'Definitions downloaded'
      })),
      card('Import', form({
        id: 'import-definitions',
        submit: 'Upload',
        fields: [
          field('Virtual host', vhostSelect('vhost', { all: true }), 'Into one vhost: only its objects are read from the file'),
          field('Definitions file', h('input', { type: 'file', name: 'file', accept: '.json,application/json', required: true }))
        ],
        async onSubmit (v, el) {
          const file = el.elements.file.files[0]
          if (!file) throw new Error('Choose a file')
          let data
          try {
            data = JSON.parse(await file.text())
          } catch {
            throw new Error(`${file.name} is not valid JSON`)
          }
          await post(v.vhost ? url`/api/definitions/${v.vhost}` : '/api/definitions', data)
          forgetVhosts()
          el.reset()
        },
        done: 'Definitions imported'
      }))))
}
