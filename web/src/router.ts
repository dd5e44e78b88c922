// Routes. Every screen is its own lazily loaded chunk, so the first load fetches only the
// shell and the screen it opens; admin screens slot in under /admin.
import { createRouter, createWebHistory } from 'vue-router'
import { session, ensureMe, loadMe, can } from './session'

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/login', name: 'login', component: () => import('./features/auth/LoginPage.vue'), meta: { public: true } },
    { path: '/track/:token', name: 'track', component: () => import('./features/tracking/TrackPage.vue'), meta: { public: true } },
    { path: '/survey/:token', name: 'survey', component: () => import('./features/survey/SurveyPage.vue'), meta: { public: true } },
    {
      path: '/',
      component: () => import('./features/shell/AppShell.vue'),
      children: [
        {
          path: '',
          component: () => import('./features/inbox/InboxPage.vue'),
          children: [
            { path: '', name: 'inbox', component: () => import('./features/inbox/InboxEmpty.vue') },
            { path: 'conversations/:id', name: 'conversation', component: () => import('./features/conversation/ConversationView.vue'), props: true },
            { path: 'tickets/:id', name: 'ticket', component: () => import('./features/tickets/TicketView.vue'), props: true },
          ],
        },
        { path: 'approvals', name: 'approvals', component: () => import('./features/approvals/ApprovalsPage.vue') },
        { path: 'collaborations', name: 'collaborations', component: () => import('./features/collaboration/CollaborationsPage.vue') },
        { path: 'dashboards', name: 'dashboards', component: () => import('./features/dashboards/DashboardPage.vue') },
        { path: 'feedback', name: 'feedback', component: () => import('./features/feedback/FeedbackPage.vue'), meta: { perm: 'read_all_cases' } },
        { path: 'admin', redirect: '/admin/users' },
        { path: 'admin/sla', name: 'sla', component: () => import('./features/admin/SlaPage.vue') },
        { path: 'admin/triggers', name: 'triggers', component: () => import('./features/admin/TriggersPage.vue') },
        { path: 'admin/kb', name: 'kb', component: () => import('./features/admin/KbPage.vue') },
        { path: 'admin/bot', name: 'bot', component: () => import('./features/admin/BotPage.vue') },
        { path: 'admin/routing', name: 'routing', component: () => import('./features/admin/RoutingPage.vue') },
        { path: 'admin/users', name: 'users', component: () => import('./features/admin/UsersPage.vue') },
        { path: 'admin/teams', name: 'teams', component: () => import('./features/admin/TeamsPage.vue') },
        { path: 'admin/problem-codes', name: 'problem-codes', component: () => import('./features/admin/ProblemCodesPage.vue') },
        { path: 'admin/tokens', name: 'tokens', component: () => import('./features/admin/TokensPage.vue') },
        { path: 'admin/security', name: 'security', component: () => import('./features/admin/SecurityPage.vue'), meta: { perm: 'manage_users' } },
        { path: 'admin/audit', name: 'audit', component: () => import('./features/admin/AuditPage.vue') },
        { path: 'admin/channels', name: 'channels', component: () => import('./features/admin/ChannelsPage.vue'), meta: { perm: 'manage_users' } },
        { path: 'admin/webhooks', name: 'webhooks', component: () => import('./features/admin/WebhooksPage.vue'), meta: { perm: 'manage_users' } },
        { path: 'admin/proactive', name: 'proactive', component: () => import('./features/admin/ProactivePage.vue'), meta: { perm: 'manage_users' } },
        { path: 'admin/alerts', name: 'alerts', component: () => import('./features/admin/AlertsPage.vue'), meta: { perm: 'supervise_cases' } },
        { path: 'admin/quality', name: 'quality', component: () => import('./features/admin/QualityPage.vue'), meta: { perm: 'supervise_cases' } },
        { path: 'admin/reports', name: 'reports', component: () => import('./features/admin/ReportsPage.vue'), meta: { perm: 'supervise_cases' } },
      ],
    },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  if (!session.me && !(await ensureMe()) && !(await loadMe())) return { name: 'login', query: { next: to.fullPath } }
  // Department staff have no inbox: their work is the collaboration requests.
  if (to.name === 'inbox' && !can('read_all_cases')) return { name: 'collaborations' }
  // Dashboards are for supervisors, the cs_head and admins.
  if (to.name === 'dashboards' && !can('supervise_cases')) return { path: '/' }
  // Screens whose API needs a permission the user lacks: not offered in the nav, not opened.
  if (typeof to.meta.perm === 'string' && !can(to.meta.perm)) return { path: '/' }
  return true
})
