// Entry of the staff app and the tracking page.
import { createApp } from 'vue'
import 'element-plus/theme-chalk/base.css'
import 'element-plus/es/components/message/style/css'
import './styles.css'
import App from './App.vue'
import { i18n } from './i18n'
import { router } from './router'
import { handleUnauthorized } from './api/client'
import { session, ensureMe } from './session'

handleUnauthorized(() => {
  session.me = null
  const here = router.currentRoute.value
  if (!here.meta.public && here.name !== 'login') router.push({ name: 'login', query: { next: here.fullPath } })
})

// The first screen's data and code in parallel: who is logged in, the shell and the inbox.
if (!/^\/(login|track|survey)\b/.test(location.pathname)) {
  void ensureMe()
  void import('./features/shell/AppShell.vue')
  void import('./features/inbox/InboxPage.vue')
}

document.documentElement.lang = i18n.global.locale.value
createApp(App).use(i18n).use(router).mount('#app')
