// English; the same keys as zh-CN.ts (the type below makes a missing key a type error).
import type zh from './zh-CN'

type Shape<T> = { [K in keyof T]: T[K] extends string ? string : Shape<T[K]> }

const en: Shape<typeof zh> = {
  app: { name: 'Huiting', title: 'Huiting agent workspace' },
  lang: { label: 'Language', zh: '中文', en: 'English' },
  common: {
    save: 'Save', cancel: 'Cancel', create: 'Create', refresh: 'Refresh', loading: 'Loading…', empty: 'Nothing here',
    none: 'None', all: 'All', yes: 'Yes', no: 'No', actions: 'Actions', saved: 'Saved', error: 'Something went wrong',
    copy: 'Copy', copied: 'Copied', back: 'Back', more: 'Load more', search: 'Search', name: 'Name',
    live: 'Live', offline: 'Connection lost, reconnecting…',
  },
  nav: { inbox: 'Workspace', admin: 'Admin', users: 'Users', teams: 'Teams', problemCodes: 'Problem codes', tokens: 'API tokens', audit: 'Audit log', logout: 'Log out' },
  login: {
    title: 'Sign in to Huiting', workspace: 'Workspace', email: 'Email', password: 'Password', submit: 'Sign in',
    failed: 'Sign-in failed: {msg}', hint: 'Demo accounts (password huiting-demo-2026 for all):',
  },
  inbox: {
    conversations: 'Conversations', tickets: 'Tickets', status: 'Status', channel: 'Channel', handler: 'Handler',
    mine: 'Mine only', unassigned: 'Unassigned', searchTickets: 'Search ticket subjects', severity: 'Severity',
    pick: 'Pick a conversation or a ticket on the left', newMessage: 'New message',
  },
  conv: {
    transcript: 'Transcript', reply: 'Reply to customer', note: 'Internal note', send: 'Send', addNote: 'Add note',
    replyPlaceholder: 'Type a reply; Ctrl+Enter sends', notePlaceholder: 'An internal note only your team sees',
    internal: 'Internal note', customer: 'Customer', bot: 'Bot', agent: 'Agent', system: 'System',
    resolve: 'Mark resolved', reopen: 'Reopen', tickets: 'Tickets',
  },
  customer: { panel: 'Customer', tier: 'Tier', identities: 'Identities', pastTickets: 'Past tickets', since: 'Since', noTickets: 'No tickets' },
  ticket: {
    number: 'Number', subject: 'Subject', status: 'Status', stage: 'Stage', severity: 'Severity', urgency: 'Urgency',
    problemCode: 'Problem code', assignee: 'Assignee', team: 'Team', tags: 'Tags', created: 'Created', updated: 'Updated',
    fields: 'Ticket fields', history: 'History', changeStatus: 'Change status', trackingLink: 'Customer tracking link',
    conversation: 'Open conversation', reply: 'Reply', messages: 'Messages',
  },
  status: {
    new: 'New', open: 'Open', pending: 'Pending customer', on_hold: 'On hold', solved: 'Solved', closed: 'Closed', reopen: 'Reopened',
    resolved: 'Resolved',
  },
  urgency: { normal: 'Normal', urgent: 'Urgent', critical: 'Critical' },
  severityLabel: { L1: 'L1 emergency', L2: 'L2 important', L3: 'L3 ordinary', L4: 'L4 suggestion/inquiry' },
  channel: { web_chat: 'Web chat', app: 'App', email: 'Email', phone: 'Phone', social: 'Social', sms: 'SMS', web_form: 'Web form', api: 'API' },
  handler: { bot: 'Bot', human: 'Human' },
  tier: { ordinary: 'Ordinary', vip: 'VIP' },
  role: { admin: 'Admin', cs_head: 'CS head', supervisor: 'Supervisor', agent: 'Agent', dept_member: 'Department member', auditor: 'Auditor' },
  admin: {
    users: 'Users and roles', email: 'Email', role: 'Role', department: 'Department', active: 'Active', newUser: 'New user',
    password: 'Initial password', teams: 'Teams and skills', kind: 'Kind', skills: 'Skills', members: 'Members', newTeam: 'New team',
    problemCodes: 'Problem codes', code: 'Code', category: 'Category', nameZh: 'Chinese name', nameEn: 'English name', reviewDept: 'Review department',
    tokens: 'API tokens', newToken: 'New token', secretOnce: 'The token secret is shown only once; save it now:', revoke: 'Revoke', revoked: 'Revoked',
    createdBy: 'Created by', createdAt: 'Created', audit: 'Audit log', actor: 'Actor', action: 'Action', object: 'Object',
    verify: 'Verify hash chain', chainOk: 'Chain intact: {n} entries checked', chainBroken: 'Chain broken: {msg}', before: 'Before', after: 'After',
    objectType: 'Object type', widget: 'Web chat widget', widgetHint: 'Put this snippet on any web page to show the chat bubble:',
  },
  track: {
    title: 'Ticket progress', company: 'Company', number: 'Ticket', current: 'Current stage', updated: 'Last update', notFound: 'This link is invalid or the ticket does not exist',
  },
  widget: {
    title: 'Chat with us', greeting: 'Hello! How can we help you?', placeholder: 'Type a message…', send: 'Send', name: 'Your name (optional)',
    start: 'Start chat', you: 'Me', agent: 'Agent', bot: 'Assistant', reconnecting: 'Reconnecting…', open: 'Open chat', close: 'Close',
  },
}

export default en
