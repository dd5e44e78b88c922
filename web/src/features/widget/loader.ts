// The embed snippet's script (served as /widget.js, a fixed name):
//   <script src="https://<huiting>/widget.js" data-key="pk_…" data-lang="zh-CN" async></script>
// It adds a chat bubble to the host page and opens the chat panel (chat.html) in an iframe on
// Huiting's own origin, so the visitor token stays there and the host page needs no CORS. It
// imports nothing and touches the host page only through its own two elements.
;(() => {
  const script = document.currentScript as HTMLScriptElement | null
  if (!script || (window as unknown as { __huitingWidget?: boolean }).__huitingWidget) return
  ;(window as unknown as { __huitingWidget?: boolean }).__huitingWidget = true
  const origin = new URL(script.src).origin
  const key = script.dataset.key ?? ''
  const lang = script.dataset.lang === 'en' ? 'en' : 'zh-CN'
  const label = lang === 'en' ? 'Chat with us' : '在线客服'

  const bubble = document.createElement('button')
  bubble.type = 'button'
  bubble.setAttribute('aria-label', label)
  bubble.title = label
  bubble.dataset.huiting = 'bubble'
  bubble.textContent = '💬'
  Object.assign(bubble.style, {
    position: 'fixed', right: '20px', bottom: '20px', width: '56px', height: '56px', borderRadius: '28px',
    border: 'none', background: '#0f766e', color: '#fff', fontSize: '26px', cursor: 'pointer',
    boxShadow: '0 4px 14px rgba(0,0,0,.25)', zIndex: '2147483646',
  })

  let frame: HTMLIFrameElement | null = null
  const narrow = () => window.matchMedia('(max-width: 480px)').matches

  function place(f: HTMLIFrameElement) {
    const phone = narrow()
    Object.assign(f.style, phone
      ? { right: '0', bottom: '0', width: '100vw', height: '100%', borderRadius: '0' }
      : { right: '20px', bottom: '88px', width: '370px', height: 'min(580px, calc(100vh - 110px))', borderRadius: '12px' })
  }

  function toggle() {
    if (!frame) {
      frame = document.createElement('iframe')
      frame.src = `${origin}/chat.html?key=${encodeURIComponent(key)}&lang=${lang}`
      frame.title = label
      frame.dataset.huiting = 'panel'
      Object.assign(frame.style, { position: 'fixed', border: 'none', background: '#fff', boxShadow: '0 8px 30px rgba(0,0,0,.25)', zIndex: '2147483647' })
      place(frame)
      document.body.appendChild(frame)
      return
    }
    frame.style.display = frame.style.display === 'none' ? 'block' : 'none'
  }

  bubble.addEventListener('click', toggle)
  window.addEventListener('resize', () => frame && place(frame))
  window.addEventListener('message', (e) => {
    if (e.origin === origin && e.data === 'huiting:close' && frame) frame.style.display = 'none'
  })
  const mount = () => document.body.appendChild(bubble)
  if (document.body) mount()
  else document.addEventListener('DOMContentLoaded', mount)
})()
