// One user: tags, password, permissions per vhost; delete.

import { del, get, put, url } from '../api.js'
import { add, card, clear, confirm, details, h, toast } from '../dom.js'
import { field, form, input, vhostSelect } from '../forms.js'
import { tagList, tagsInput } from './users.js'

export default async function user (ctx) {
  const [name] = ctx.params
  const base = url`/api/users/${name}`
  let loaded = await get(base, { signal: ctx.signal })
  const info = h('div')
  const perms = h('div')
  const [tags, tagButtons] = tagsInput([].concat(loaded.tags).join(', '))
  const remove = h('button', { type: 'button', class: 'btn btn-danger', id: 'delete-user' }, 'Delete user')
  remove.addEventListener('click', async () => {
    if (!await confirm(`Delete the user ${name}? Its connections are closed.`)) return
    await del(base)
    toast(`User ${name} deleted`)
    ctx.navigate('#/users')
  })

  async function refresh () {
    const u = loaded || await get(base, { signal: ctx.signal })
    loaded = null
    clear(info, details([
      ['Tags', tagList(u.tags)],
      ['Password', u.password_hash ? 'set' : 'none (can not sign in with a password)'],
      ['Hashing algorithm', u.hashing_algorithm]
    ]))
    const rows = await get(url`/api/users/${name}/permissions`, { signal: ctx.signal })
    clear(perms, permissionTable(rows, refresh))
  }

  const title = ctx.title(name)
  title.append(' ', h('small', {}, 'user'))
  add(ctx.main,
    title,
    h('div', { class: 'actions card' }, remove),
    h('div', { class: 'grid' },
      card('Details', info),
      card('Update', form({
        id: 'update-user',
        submit: 'Update user',
        fields: [
          field('Tags', tags),
          tagButtons,
          field('New password', input('password', { type: 'password', autocomplete: 'new-password' }), 'Leave empty to keep the current password')
        ],
        async onSubmit (v, el) {
          const body = { tags: v.tags }
          if (v.password) body.password = v.password
          await put(base, body)
          el.querySelector('[name=password]').value = ''
          await refresh()
        },
        done: 'User updated'
      }))),
    card('Permissions', perms, h('h3', {}, 'Set permission'), form({
      id: 'set-permission',
      submit: 'Set permission',
      fields: [h('div', { class: 'form-row' },
        field('Virtual host', vhostSelect('vhost', { value: '/' })),
        field('Configure', input('configure', { value: '.*' })),
        field('Write', input('write', { value: '.*' })),
        field('Read', input('read', { value: '.*' })))],
      async onSubmit (v) {
        await put(url`/api/permissions/${v.vhost}/${name}`, { configure: v.configure, write: v.write, read: v.read })
        await refresh()
      },
      done: v => `Permission on ${v.vhost} set`
    })))
  ctx.every(refresh)
}

function permissionTable (rows, onChange) {
  if (!rows.length) return h('p', { class: 'muted' }, 'No access to any virtual host')
  return h('table', { class: 'data', id: 'permissions' },
    h('thead', {}, h('tr', {}, ['Virtual host', 'Configure', 'Write', 'Read', ''].map(t => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.map(p => h('tr', {},
      h('td', {}, p.vhost),
      h('td', { class: 'mono' }, p.configure),
      h('td', { class: 'mono' }, p.write),
      h('td', { class: 'mono' }, p.read),
      h('td', {}, h('button', {
        type: 'button',
        class: 'btn btn-small btn-danger',
        async onclick () {
          if (!await confirm(`Remove ${p.user}'s access to ${p.vhost}?`, 'Clear')) return
          await del(url`/api/permissions/${p.vhost}/${p.user}`)
          toast('Permission cleared')
          await onChange()
        }
      }, 'Clear'))))))
}
