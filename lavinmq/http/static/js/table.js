// A listing backed by the API's paging: page, page_size, name, use_regex, sort, sort_reverse.

import { ApiError, get, query } from './api.js'
import { clear, debounce, fmt, h } from './dom.js'

const PAGE_SIZES = [20, 50, 100, 500]

export class DataTable {
  /**
   * @param opts.id        key for the remembered sort/filter/page state
   * @param opts.path      () => the listing's API path
   * @param opts.columns   [{ label, sort?: key, render(row), num?: bool }]
   * @param opts.fields    API field names to ask for (``columns=``), or all
   * @param opts.rowKey    row => unique key (selection survives refreshes)
   * @param opts.selectable adds a checkbox column; ``selected()`` returns the rows
   * @param opts.tools    extra controls (bulk actions) for the toolbar
   * @param opts.filter   false: rows without names, no filter box
   */
  constructor (opts) {
    this.opts = { rowKey: r => `${r.vhost}\u0000${r.name}`, pageSize: 20, ...opts }
    this.state = { page: 1, pageSize: this.opts.pageSize, sort: opts.sort || '', reverse: false, filter: '', regex: false }
    Object.assign(this.state, JSON.parse(window.sessionStorage.getItem(this.storageKey) || '{}'))
    this.rows = []
    this.selection = new Set()
    this.lastBody = ''
    this.onSelect = opts.onSelect || (() => {})
    this.el = this.build()
  }

  get storageKey () {
    return `lavinmq.table.${this.opts.id}`
  }

  save () {
    window.sessionStorage.setItem(this.storageKey, JSON.stringify(this.state))
  }

  build () {
    const filter = h('input', {
      type: 'search', value: this.state.filter, placeholder: 'Filter by name', 'aria-label': 'Filter by name'
    })
    filter.addEventListener('input', debounce(() => {
      this.state.filter = filter.value
      this.state.page = 1
      this.refresh()
    }))
    const regex = h('input', { type: 'checkbox', checked: this.state.regex })
    regex.addEventListener('change', () => { this.state.regex = regex.checked; this.refresh() })
    this.count = h('span', { class: 'count', 'aria-live': 'polite' })
    this.thead = h('thead')
    this.tbody = h('tbody')
    this.pager = h('nav', { class: 'pager', 'aria-label': `${this.opts.caption} pages` })
    this.renderHead()
    return h('div', { class: 'table-wrap' },
      h('div', { class: 'table-tools' },
        this.opts.filter === false ? null : [filter, h('label', { class: 'inline' }, regex, ' Regex')],
        this.opts.tools, this.count),
      h('div', { class: 'table-scroll' },
        h('table', { class: 'data', id: this.opts.id },
          h('caption', { class: 'sr-only' }, this.opts.caption), this.thead, this.tbody)),
      this.pager)
  }

  renderHead () {
    const cells = this.opts.columns.map(col => {
      if (!col.sort) return h('th', { scope: 'col', class: col.num ? 'num' : '' }, col.label)
      const active = this.state.sort === col.sort
      const button = h('button', { type: 'button', class: 'sort' }, col.label,
        h('span', { class: 'arrow', 'aria-hidden': 'true' }, active ? (this.state.reverse ? '▼' : '▲') : ''))
      button.addEventListener('click', () => {
        this.state.reverse = active ? !this.state.reverse : Boolean(col.num)
        this.state.sort = col.sort
        this.renderHead()
        this.refresh()
      })
      return h('th', {
        scope: 'col',
        class: col.num ? 'num' : '',
        'aria-sort': active ? (this.state.reverse ? 'descending' : 'ascending') : 'none'
      }, button)
    })
    if (this.opts.selectable) {
      const all = h('input', { type: 'checkbox', 'aria-label': 'Select all on this page' })
      all.addEventListener('change', () => {
        for (const row of this.rows) {
          const key = this.opts.rowKey(row)
          all.checked ? this.selection.add(key) : this.selection.delete(key)
        }
        this.renderBody()
        this.onSelect(this.selected())
      })
      cells.unshift(h('th', { scope: 'col', class: 'check' }, all))
    }
    clear(this.thead, h('tr', {}, cells))
  }

  url () {
    const s = this.state
    return query(this.opts.path(), {
      page: s.page,
      page_size: s.pageSize,
      name: s.filter,
      use_regex: s.regex ? 'true' : undefined,
      sort: s.sort,
      sort_reverse: s.reverse ? 'true' : undefined,
      columns: this.opts.fields ? this.opts.fields.join(',') : undefined
    })
  }

  async refresh () {
    this.save()
    let data
    try {
      data = await get(this.url())
    } catch (e) {
      if (e instanceof ApiError && e.status === 400 && this.state.page > 1) {
        this.state.page = 1 // rows went away under the current page
        return this.refresh()
      }
      throw e
    }
    const body = JSON.stringify(data)
    if (body === this.lastBody) return
    this.lastBody = body
    this.rows = data.items
    const keys = new Set(this.rows.map(this.opts.rowKey))
    for (const key of this.selection) if (!keys.has(key)) this.selection.delete(key)
    this.renderBody()
    this.renderPager(data)
  }

  /** Forces a re-render on the next refresh (after an action changed rows). */
  invalidate () {
    this.lastBody = ''
    return this.refresh()
  }

  renderBody () {
    const cols = this.opts.columns
    if (!this.rows.length) {
      const span = cols.length + (this.opts.selectable ? 1 : 0)
      clear(this.tbody, h('tr', {}, h('td', { colspan: span, class: 'empty' }, this.opts.empty || 'Nothing here yet')))
      return
    }
    clear(this.tbody, this.rows.map(row => {
      const cells = cols.map(col => h('td', { class: col.num ? 'num' : '' }, col.render(row)))
      if (this.opts.selectable) {
        const key = this.opts.rowKey(row)
        const box = h('input', { type: 'checkbox', checked: this.selection.has(key), 'aria-label': `Select ${row.name}` })
        box.addEventListener('change', () => {
          box.checked ? this.selection.add(key) : this.selection.delete(key)
          this.onSelect(this.selected())
        })
        cells.unshift(h('td', { class: 'check' }, box))
      }
      return h('tr', {}, cells)
    }))
  }

  renderPager (data) {
    const s = this.state
    this.count.textContent = data.filtered_count === data.total_count
      ? `${fmt.num(data.total_count)} total`
      : `${fmt.num(data.filtered_count)} of ${fmt.num(data.total_count)}`
    const go = page => () => { s.page = page; this.refresh() }
    const size = h('select', { 'aria-label': 'Rows per page' },
      PAGE_SIZES.map(n => h('option', { value: n, selected: n === s.pageSize }, `${n} per page`)))
    size.addEventListener('change', () => { s.pageSize = Number(size.value); s.page = 1; this.refresh() })
    clear(this.pager,
      h('button', { type: 'button', class: 'btn btn-small', disabled: s.page <= 1, onclick: go(s.page - 1) }, '‹ Previous'),
      h('span', {}, `Page ${data.page} of ${data.page_count}`),
      h('button', { type: 'button', class: 'btn btn-small', disabled: s.page >= data.page_count, onclick: go(s.page + 1) }, 'Next ›'),
      size)
  }

  selected () {
    return this.rows.filter(r => this.selection.has(this.opts.rowKey(r)))
  }
}
