// Users: the listing with tags and vhost access, and the form to add one.

import { get, put, url } from '../api.js'
import { add, card, h } from '../dom.js'
import { field, form, input } from '../forms.js'
import { DataTable } from '../table.js'
import { link } from '../widgets.js'

export const TAGS = ['administrator', 'monitoring', 'policymaker', 'management', 'impersonator']

export function tagList (tags) {
  const list = Array.isArray(tags) ? tags : String(tags || '').split(',').filter(Boolean)
  return list.map(t => h('span', { class: 'tag' }, t))
}

/** A tags text input with one button per known tag that toggles it. */
export function tagsInput (value = '') {
  const el = input('tags', { value, placeholder: 'administrator, monitoring', id: 'user-tags' })
  const buttons = TAGS.map(tag => h('button', {
    type: 'button',
    class: 'btn btn-small',
    onclick () {
      const set = new Set(el.value.split(',').map(t => t.trim()).filter(Boolean))
      set.has(tag) ? set.delete(tag) : set.add(tag)
      el.value = [...set].join(', ')
    }
  }, tag))
  return [el, h('div', { class: 'actions' }, h('span', { class: 'hint' }, 'Toggle:'), buttons)]
}

export default async function users (ctx) {
  let access = {}
  const table = new DataTable({
    id: 'users',
    caption: 'Users',
    path: () => '/api/users',
    sort: 'name',
    rowKey: r => r.name,
    fields: ['name', 'tags', 'password_hash'],
    columns: [
      { label: 'Name', sort: 'name', render: r => link.user(r.name) },
      { label: 'Tags', render: r => tagList(r.tags) },
      { label: 'Can access virtual hosts', render: r => (access[r.name] || []).join(', ') || h('span', { class: 'muted' }, 'none') },
      { label: 'Password', render: r => r.password_hash ? '●●●●' : h('span', { class: 'muted' }, 'none') }
    ]
  })
  const [tags, tagButtons] = tagsInput()
  add(ctx.main,
    ctx.title('Users'),
    card('All users', table.el),
    card('Add a user', form({
      id: 'add-user',
      submit: 'Add user',
      fields: [
        h('div', { class: 'form-row' },
          field('Username', input('name', { required: true, autocomplete: 'off' })),
          field('Password', input('password', { type: 'password', autocomplete: 'new-password' }),
            'Leave empty for a user that can not sign in with a password')),
        field('Tags', tags),
        tagButtons
      ],
      async onSubmit (v, el) {
        const body = { tags: v.tags }
        if (v.password) body.password = v.password
        else body.password_hash = ''
        await put(url`/api/users/${v.name}`, body)
        el.reset()
        await table.invalidate()
      },
      done: v => `User ${v.name} added`
    })))
  ctx.every(async () => {
    const perms = await get('/api/permissions', { signal: ctx.signal })
    const next = {}
    for (const p of perms) (next[p.user] ||= []).push(p.vhost)
    if (JSON.stringify(next) !== JSON.stringify(access)) table.lastBody = ''
    access = next
    await table.refresh()
  })
}
