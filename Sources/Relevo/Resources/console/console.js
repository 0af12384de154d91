// The Relevo console: a client of Relevo's public API, in the browser.
//
// Everything that came from outside (messages, names, metadata, panels' answers, ids) is put on the
// page as text (textContent, attribute values), never parsed as markup. The API key lives in this
// tab's sessionStorage and leaves only as the x-api-key header of fetch calls to this origin.
'use strict';

const KEY = 'relevo.apiKey';
const PROJECT = 'relevo.project';
const LANGUAGE = 'relevo.language';
const REFRESH_MS = 4000;

// ---------------------------------------------------------------- words

const WORDS = {
  en: {
    skip: 'Skip to content', signOut: 'Sign out', language: 'Language',
    overview: 'Overview', conversations: 'Conversations', events: 'Events', integration: 'Integration', bots: 'Bots',
    signInTitle: 'Sign in to the console', apiKey: 'Project API key', signIn: 'Sign in',
    signInHelp: 'The key stays in this tab only, and is forgotten when you sign out or close the tab.',
    badKey: 'This API key is not valid, or it was revoked.', unreachable: 'Relevo did not answer. Try again.',
    signedOut: 'Your key is no longer accepted: sign in again.', project: 'Project',
    noIntegration: 'No integration yet — create one to connect your panel.', createIntegration: 'Create the integration',
    webhookUrl: 'Webhook URL', authType: 'Authentication', credential: 'Credential', created: 'Created', updated: 'Updated',
    health: 'Delivery health', queueDepth: 'Waiting to be delivered', oldestPending: 'Oldest pending',
    deliveredHour: 'Delivered in the last hour', failedHour: 'Failed in the last hour', lastDelivered: 'Last delivered',
    never: 'never', none: 'none', seeFailed: (n) => `See the ${n} failed event${n === 1 ? '' : 's'}`,
    state: 'State', any: 'Any', active: 'Active', closed: 'Closed', bot: 'Bot', user: 'User', userId: 'User id',
    apply: 'Apply', started: 'Started', ended: 'Ended', loadMore: 'Load more', conversation: 'Conversation',
    noConversations: 'No conversations yet. They appear here when a bot starts one (POST …/conversations/start).',
    noMatches: 'Nothing matches these filters.', metadata: 'Metadata', assignment: 'Assignment', reason: 'Reason',
    transcript: 'Transcript', noMessages: 'No messages yet.', eventsOfConversation: 'Events of this conversation',
    status: 'Status', type: 'Type', destination: 'Destination', attempts: 'Attempts', id: 'Id', conversationId: 'Conversation id',
    noEvents: 'No events yet. Relevo records one for every message it sends to the panel or a channel.',
    event: 'Event', body: 'Body', copy: 'Copy', copied: 'Copied', headersSent: 'Headers sent', attempt: 'Attempt',
    startedAt: 'Started', duration: 'Duration', answer: 'Answer', noAttempts: 'No attempt yet.', redeliver: 'Redeliver',
    redeliverQueued: 'Queued for redelivery.', bulkTitle: 'Redeliver failed events', since: 'Failed since',
    bulkCount: (n) => `Redeliver ${n} failed event${n === 1 ? '' : 's'}? Each is sent again with its id and body.`,
    bulkNone: 'No failed event since that time.', bulkDone: (n) => `${n} event${n === 1 ? '' : 's'} queued for redelivery.`,
    nextAttempt: 'Next attempt', finished: 'Finished', secretNote: 'Signatures are shown; the secret and the panel credential never are.',
    headersOf: (n) => `Attempt ${n}:`, noHeaders: 'None to show: no attempt has sent a request yet, or the integration changed since (Relevo keeps no copy of the headers).',
    save: 'Save', edit: 'Edit the integration', signingSecret: 'Signing secret',
    secretOnce: 'Copy it now: it is shown only this once. Your panel needs it to verify events and sign replies.',
    regenerate: 'Regenerate the signing secret', grace: 'Grace period for the old secret (seconds)',
    regenerateConfirm: 'Regenerate the signing secret? The old one stops signing events now.',
    deleteIntegration: 'Delete the integration',
    deleteConfirm: 'Delete the integration? Undelivered events are cancelled, active conversations close, the secret is destroyed.',
    deleted: 'Integration deleted.', saved: 'Saved.', cancel: 'Cancel', ok: 'OK',
    name: 'Name', channelUrl: 'Channel URL', botId: 'Id (optional)', createBot: 'Create a bot', setUrl: 'Set', clearUrl: 'Clear',
    channelSecret: 'Channel signing secret', noBots: 'No bots yet — create one below.', noChannel: 'no channel (deliveries are held)',
    refreshed: 'Updated', loading: 'Loading…', failedToLoad: 'Could not load this page.', notFound: 'Not found.',
    back: 'Back', newest: 'newest first',
    webchat: 'Web chat', chooseBot: 'Bot', allowedOrigins: 'Allowed origins (one per line, e.g. https://shop.example)',
    startMode: 'A conversation starts', firstMessage: 'with the visitor’s first message', button: 'when the visitor presses “Talk to a person”',
    greeting: 'Greeting (optional)', identityVerification: 'Verify signed-in users (identity secret)', agentTimeout: 'Seconds before “no agent could be reached”',
    enableWebchat: 'Enable the web chat', disableWebchat: 'Disable the web chat', disableConfirm: 'Disable this bot’s web chat? The widget stops loading on every site; conversations and history stay.',
    disabled: 'Web chat disabled.', embed: 'Embed it with this tag on any page of an allowed origin:', identitySecret: 'Identity secret',
    regenerateIdentity: 'Regenerate the identity secret', webchatOff: 'This bot has no web chat yet.', noBotsForChat: 'Create a bot first (Bots).',
    sandbox: 'Sandbox', sandboxHelp: 'Chat as a test visitor: every event sent to your panel appears on the right, and your panel’s replies come back in the widget.',
    openSandbox: 'Open the sandbox', sentToPanel: 'Sent to the panel', noEventsYet: 'Nothing sent yet — write in the widget.',
  },
  es: {
    skip: 'Ir al contenido', signOut: 'Cerrar sesión', language: 'Idioma',
    overview: 'Resumen', conversations: 'Conversaciones', events: 'Eventos', integration: 'Integración', bots: 'Bots',
    signInTitle: 'Entrar a la consola', apiKey: 'API key del proyecto', signIn: 'Entrar',
    signInHelp: 'La clave queda solo en esta pestaña y se olvida al cerrar sesión o la pestaña.',
    badKey: 'Esta API key no es válida o fue revocada.', unreachable: 'Relevo no respondió. Inténtalo de nuevo.',
    signedOut: 'Tu clave ya no es aceptada: vuelve a entrar.', project: 'Proyecto',
    noIntegration: 'Aún no hay integración — crea una para conectar tu panel.', createIntegration: 'Crear la integración',
    webhookUrl: 'URL del webhook', authType: 'Autenticación', credential: 'Credencial', created: 'Creada', updated: 'Actualizada',
    health: 'Estado de las entregas', queueDepth: 'Esperando entrega', oldestPending: 'Pendiente más antiguo',
    deliveredHour: 'Entregados en la última hora', failedHour: 'Fallidos en la última hora', lastDelivered: 'Última entrega',
    never: 'nunca', none: 'ninguno', seeFailed: (n) => `Ver ${n === 1 ? 'el evento fallido' : `los ${n} eventos fallidos`}`,
    state: 'Estado', any: 'Cualquiera', active: 'Activa', closed: 'Cerrada', bot: 'Bot', user: 'Usuario', userId: 'Id de usuario',
    apply: 'Aplicar', started: 'Inicio', ended: 'Fin', loadMore: 'Cargar más', conversation: 'Conversación',
    noConversations: 'Aún no hay conversaciones. Aparecen aquí cuando un bot inicia una (POST …/conversations/start).',
    noMatches: 'Nada coincide con estos filtros.', metadata: 'Metadatos', assignment: 'Asignación', reason: 'Motivo',
    transcript: 'Transcripción', noMessages: 'Aún no hay mensajes.', eventsOfConversation: 'Eventos de esta conversación',
    status: 'Estado', type: 'Tipo', destination: 'Destino', attempts: 'Intentos', id: 'Id', conversationId: 'Id de conversación',
    noEvents: 'Aún no hay eventos. Relevo registra uno por cada mensaje que envía al panel o a un canal.',
    event: 'Evento', body: 'Cuerpo', copy: 'Copiar', copied: 'Copiado', headersSent: 'Cabeceras enviadas', attempt: 'Intento',
    startedAt: 'Inicio', duration: 'Duración', answer: 'Respuesta', noAttempts: 'Aún sin intentos.', redeliver: 'Reenviar',
    redeliverQueued: 'En cola para reenvío.', bulkTitle: 'Reenviar eventos fallidos', since: 'Fallidos desde',
    bulkCount: (n) => `¿Reenviar ${n} evento${n === 1 ? '' : 's'} fallido${n === 1 ? '' : 's'}? Cada uno se envía de nuevo con su id y cuerpo.`,
    bulkNone: 'No hay eventos fallidos desde ese momento.', bulkDone: (n) => `${n} evento${n === 1 ? '' : 's'} en cola para reenvío.`,
    nextAttempt: 'Próximo intento', finished: 'Terminado', secretNote: 'Se muestran las firmas; nunca el secreto ni la credencial del panel.',
    headersOf: (n) => `Intento ${n}:`, noHeaders: 'Nada que mostrar: ningún intento ha enviado una petición aún, o la integración cambió desde entonces (Relevo no guarda copia de las cabeceras).',
    save: 'Guardar', edit: 'Editar la integración', signingSecret: 'Secreto de firma',
    secretOnce: 'Cópialo ahora: solo se muestra esta vez. Tu panel lo necesita para verificar eventos y firmar respuestas.',
    regenerate: 'Regenerar el secreto de firma', grace: 'Periodo de gracia del secreto anterior (segundos)',
    regenerateConfirm: '¿Regenerar el secreto de firma? El anterior deja de firmar eventos ahora.',
    deleteIntegration: 'Eliminar la integración',
    deleteConfirm: '¿Eliminar la integración? Los eventos no entregados se cancelan, las conversaciones activas se cierran y el secreto se destruye.',
    deleted: 'Integración eliminada.', saved: 'Guardado.', cancel: 'Cancelar', ok: 'Aceptar',
    name: 'Nombre', channelUrl: 'URL del canal', botId: 'Id (opcional)', createBot: 'Crear un bot', setUrl: 'Guardar', clearUrl: 'Quitar',
    channelSecret: 'Secreto de firma del canal', noBots: 'Aún no hay bots — crea uno abajo.', noChannel: 'sin canal (las entregas esperan)',
    refreshed: 'Actualizado', loading: 'Cargando…', failedToLoad: 'No se pudo cargar esta página.', notFound: 'No encontrado.',
    back: 'Volver', newest: 'más recientes primero',
    webchat: 'Chat web', chooseBot: 'Bot', allowedOrigins: 'Orígenes permitidos (uno por línea, p. ej. https://shop.example)',
    startMode: 'Una conversación empieza', firstMessage: 'con el primer mensaje del visitante', button: 'cuando el visitante pulsa “Hablar con una persona”',
    greeting: 'Saludo (opcional)', identityVerification: 'Verificar usuarios con sesión (secreto de identidad)', agentTimeout: 'Segundos antes de “no se pudo contactar a un agente”',
    enableWebchat: 'Activar el chat web', disableWebchat: 'Desactivar el chat web', disableConfirm: '¿Desactivar el chat web de este bot? El widget deja de cargarse en todos los sitios; las conversaciones y el historial se conservan.',
    disabled: 'Chat web desactivado.', embed: 'Incrústalo con esta etiqueta en cualquier página de un origen permitido:', identitySecret: 'Secreto de identidad',
    regenerateIdentity: 'Regenerar el secreto de identidad', webchatOff: 'Este bot aún no tiene chat web.', noBotsForChat: 'Crea primero un bot (Bots).',
    sandbox: 'Sandbox', sandboxHelp: 'Chatea como visitante de prueba: cada evento enviado a tu panel aparece a la derecha, y las respuestas de tu panel vuelven al widget.',
    openSandbox: 'Abrir el sandbox', sentToPanel: 'Enviado al panel', noEventsYet: 'Nada enviado aún — escribe en el widget.',
  },
  pt: {
    skip: 'Ir para o conteúdo', signOut: 'Sair', language: 'Idioma',
    overview: 'Visão geral', conversations: 'Conversas', events: 'Eventos', integration: 'Integração', bots: 'Bots',
    signInTitle: 'Entrar no console', apiKey: 'API key do projeto', signIn: 'Entrar',
    signInHelp: 'A chave fica só nesta aba e é esquecida ao sair ou fechar a aba.',
    badKey: 'Esta API key não é válida ou foi revogada.', unreachable: 'O Relevo não respondeu. Tente de novo.',
    signedOut: 'Sua chave não é mais aceita: entre de novo.', project: 'Projeto',
    noIntegration: 'Ainda não há integração — crie uma para conectar seu painel.', createIntegration: 'Criar a integração',
    webhookUrl: 'URL do webhook', authType: 'Autenticação', credential: 'Credencial', created: 'Criada', updated: 'Atualizada',
    health: 'Saúde das entregas', queueDepth: 'Aguardando entrega', oldestPending: 'Pendente mais antigo',
    deliveredHour: 'Entregues na última hora', failedHour: 'Falhos na última hora', lastDelivered: 'Última entrega',
    never: 'nunca', none: 'nenhum', seeFailed: (n) => `Ver ${n === 1 ? 'o evento com falha' : `os ${n} eventos com falha`}`,
    state: 'Estado', any: 'Qualquer', active: 'Ativa', closed: 'Encerrada', bot: 'Bot', user: 'Usuário', userId: 'Id do usuário',
    apply: 'Aplicar', started: 'Início', ended: 'Fim', loadMore: 'Carregar mais', conversation: 'Conversa',
    noConversations: 'Ainda não há conversas. Elas aparecem aqui quando um bot inicia uma (POST …/conversations/start).',
    noMatches: 'Nada corresponde a estes filtros.', metadata: 'Metadados', assignment: 'Atribuição', reason: 'Motivo',
    transcript: 'Transcrição', noMessages: 'Ainda não há mensagens.', eventsOfConversation: 'Eventos desta conversa',
    status: 'Status', type: 'Tipo', destination: 'Destino', attempts: 'Tentativas', id: 'Id', conversationId: 'Id da conversa',
    noEvents: 'Ainda não há eventos. O Relevo registra um para cada mensagem que envia ao painel ou a um canal.',
    event: 'Evento', body: 'Corpo', copy: 'Copiar', copied: 'Copiado', headersSent: 'Cabeçalhos enviados', attempt: 'Tentativa',
    startedAt: 'Início', duration: 'Duração', answer: 'Resposta', noAttempts: 'Ainda sem tentativas.', redeliver: 'Reenviar',
    redeliverQueued: 'Na fila para reenvio.', bulkTitle: 'Reenviar eventos com falha', since: 'Com falha desde',
    bulkCount: (n) => `Reenviar ${n} evento${n === 1 ? '' : 's'} com falha? Cada um é enviado de novo com seu id e corpo.`,
    bulkNone: 'Nenhum evento com falha desde esse momento.', bulkDone: (n) => `${n} evento${n === 1 ? '' : 's'} na fila para reenvio.`,
    nextAttempt: 'Próxima tentativa', finished: 'Terminado', secretNote: 'As assinaturas são mostradas; o segredo e a credencial do painel, nunca.',
    headersOf: (n) => `Tentativa ${n}:`, noHeaders: 'Nada a mostrar: nenhuma tentativa enviou uma requisição ainda, ou a integração mudou desde então (o Relevo não guarda cópia dos cabeçalhos).',
    save: 'Salvar', edit: 'Editar a integração', signingSecret: 'Segredo de assinatura',
    secretOnce: 'Copie agora: ele só é mostrado desta vez. Seu painel precisa dele para verificar eventos e assinar respostas.',
    regenerate: 'Regenerar o segredo de assinatura', grace: 'Período de carência do segredo anterior (segundos)',
    regenerateConfirm: 'Regenerar o segredo de assinatura? O anterior deixa de assinar eventos agora.',
    deleteIntegration: 'Excluir a integração',
    deleteConfirm: 'Excluir a integração? Eventos não entregues são cancelados, conversas ativas são encerradas e o segredo é destruído.',
    deleted: 'Integração excluída.', saved: 'Salvo.', cancel: 'Cancelar', ok: 'OK',
    name: 'Nome', channelUrl: 'URL do canal', botId: 'Id (opcional)', createBot: 'Criar um bot', setUrl: 'Salvar', clearUrl: 'Remover',
    channelSecret: 'Segredo de assinatura do canal', noBots: 'Ainda não há bots — crie um abaixo.', noChannel: 'sem canal (as entregas aguardam)',
    refreshed: 'Atualizado', loading: 'Carregando…', failedToLoad: 'Não foi possível carregar esta página.', notFound: 'Não encontrado.',
    back: 'Voltar', newest: 'mais recentes primeiro',
    webchat: 'Chat web', chooseBot: 'Bot', allowedOrigins: 'Origens permitidas (uma por linha, ex. https://shop.example)',
    startMode: 'Uma conversa começa', firstMessage: 'com a primeira mensagem do visitante', button: 'quando o visitante toca em “Falar com uma pessoa”',
    greeting: 'Saudação (opcional)', identityVerification: 'Verificar usuários logados (segredo de identidade)', agentTimeout: 'Segundos antes de “nenhum agente disponível”',
    enableWebchat: 'Ativar o chat web', disableWebchat: 'Desativar o chat web', disableConfirm: 'Desativar o chat web deste bot? O widget deixa de carregar em todos os sites; conversas e histórico ficam.',
    disabled: 'Chat web desativado.', embed: 'Incorpore com esta tag em qualquer página de uma origem permitida:', identitySecret: 'Segredo de identidade',
    regenerateIdentity: 'Regenerar o segredo de identidade', webchatOff: 'Este bot ainda não tem chat web.', noBotsForChat: 'Crie um bot primeiro (Bots).',
    sandbox: 'Sandbox', sandboxHelp: 'Converse como visitante de teste: cada evento enviado ao seu painel aparece à direita, e as respostas do seu painel voltam ao widget.',
    openSandbox: 'Abrir o sandbox', sentToPanel: 'Enviado ao painel', noEventsYet: 'Nada enviado ainda — escreva no widget.',
  },
};

let language = chooseLanguage();

function chooseLanguage() {
  const chosen = localStorage.getItem(LANGUAGE);
  if (chosen && WORDS[chosen]) return chosen;
  for (const tag of navigator.languages || [navigator.language || 'en']) {
    const base = String(tag).slice(0, 2).toLowerCase();
    if (WORDS[base]) return base;
  }
  return 'en';
}

function t(word, ...values) {
  const entry = WORDS[language][word] ?? WORDS.en[word] ?? word;
  return typeof entry === 'function' ? entry(...values) : entry;
}

// ---------------------------------------------------------------- building the page, as text

/** An element: attributes set as attributes (values as text), children appended (strings as text nodes). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function time(iso) {
  if (!iso) return h('span', { class: 'muted' }, t('never'));
  const date = new Date(iso);
  const shown = Number.isNaN(date.getTime()) ? iso : date.toLocaleString(language);
  return h('time', { datetime: iso, title: iso }, shown);
}

function badge(value) {
  return h('span', { class: `badge ${String(value).replace(/[^a-z]/g, '')}` }, value);
}

function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([term, detail]) => [h('dt', {}, term), h('dd', {}, detail)]));
}

function table(headings, rows) {
  return h('div', { class: 'table-wrap' },
    h('table', {}, h('thead', {}, h('tr', {}, headings.map((heading) => h('th', { scope: 'col' }, heading)))), h('tbody', {}, rows)));
}

function notify(text) {
  const notice = document.getElementById('notice');
  notice.textContent = text;
  notice.classList.add('shown');
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => notice.classList.remove('shown'), 4000);
}

/** Asks with the page's dialog; resolves true on OK. */
function confirmAction(text) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = t('ok');
  document.getElementById('confirm-cancel').textContent = t('cancel');
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
  });
}

function copyButton(text) {
  return h('button', {
    type: 'button', class: 'quiet', onclick: async (event) => {
      const button = event.currentTarget;
      try { await navigator.clipboard.writeText(text); } catch { /* a browser without clipboard access: the text is selectable */ }
      button.textContent = t('copied');
    },
  }, t('copy'));
}

function secretBox(label, secret) {
  return h('div', { class: 'secret', role: 'alert' },
    h('strong', {}, `${label}:`), h('code', { 'data-secret': '' }, secret), copyButton(secret), h('span', {}, t('secretOnce')));
}

// ---------------------------------------------------------------- the API

class APIError extends Error {
  constructor(status, envelope) {
    super(envelope?.message?.[0] || `HTTP ${status}`);
    this.status = status;
    this.envelope = envelope;
  }

  /** The envelope's message in the console's language. */
  get text() {
    return this.envelope?.error?.clientMessages?.[language] && this.status !== 422 && this.status !== 400
      ? (this.envelope.error.developerMessages?.[language] || this.message)
      : this.message;
  }

  /** Each invalid field's message in the console's language. */
  fieldMessages() {
    const fields = {};
    for (const [field, messages] of Object.entries(this.envelope?.validationError || {})) {
      fields[field] = messages.map((message) => message[language] || message.en).join(' ');
    }
    return fields;
  }
}

/** The key and its project, kept in this browser tab only. */
const tab = {
  get key() { return sessionStorage.getItem(KEY); },
  get project() { try { return JSON.parse(sessionStorage.getItem(PROJECT)); } catch { return null; } },
  signIn(key, project) { sessionStorage.setItem(KEY, key); sessionStorage.setItem(PROJECT, JSON.stringify(project)); },
  signOut() { sessionStorage.removeItem(KEY); sessionStorage.removeItem(PROJECT); },
};

async function api(method, path, body, key = tab.key) {
  const init = { method, headers: { 'x-api-key': key || '' }, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
  if (!response.ok) {
    if (response.status === 401 && key === tab.key && tab.key) {
      tab.signOut();
      render({ reason: t('signedOut') });
    }
    throw new APIError(response.status, parsed);
  }
  return parsed?.data;
}

function projectPath(suffix = '') {
  return `/v1/external-support/${encodeURIComponent(tab.project.projectId)}${suffix}`;
}

function platformPath(suffix) {
  return `/v1/projects/${encodeURIComponent(tab.project.projectId)}${suffix}`;
}

function query(parameters) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) if (value) search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}

// ---------------------------------------------------------------- routing

const PAGES = [
  ['overview', '#/overview'], ['conversations', '#/conversations'], ['events', '#/events'], ['integration', '#/integration'], ['bots', '#/bots'],
  ['webchat', '#/webchat'],
];
let refreshTimer = null;

function route() {
  const [path, search = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] || 'overview', id: parts[1], parameters: new URLSearchParams(search) };
}

function every(milliseconds, work) {
  clearInterval(refreshTimer);
  refreshTimer = setInterval(() => { if (!document.hidden) work().catch(() => {}); }, milliseconds);
}

function chrome() {
  document.documentElement.lang = language;
  document.title = `Relevo — ${t(route().page) || 'console'}`;
  document.querySelector('.skip').textContent = t('skip');
  document.getElementById('language-label').textContent = t('language');
  document.getElementById('language').value = language;
  const signOut = document.getElementById('sign-out');
  signOut.textContent = t('signOut');
  signOut.hidden = !tab.key;
  const project = tab.project;
  document.getElementById('project').textContent = project ? `${t('project')}: ${project.name} (${project.projectId})` : '';
  const nav = document.getElementById('nav');
  nav.replaceChildren();
  if (!tab.key) return;
  const current = route().page;
  for (const [page, href] of PAGES) {
    nav.append(h('a', { href, 'aria-current': current === page ? 'page' : null }, t(page)));
  }
}

async function render(options = {}) {
  clearInterval(refreshTimer);
  chrome();
  const main = document.getElementById('main');
  if (!tab.key) {
    main.replaceChildren(signInPage(options.reason));
    main.querySelector('input')?.focus();
    return;
  }
  const { page, id, parameters } = route();
  main.replaceChildren(h('p', { class: 'muted' }, t('loading')));
  const pages = { overview: overviewPage, conversations: id ? conversationPage : conversationsPage, events: id ? eventPage : eventsPage,
    integration: integrationPage, bots: botsPage, webchat: webChatPage };
  try {
    const content = await (pages[page] || overviewPage)(id, parameters);
    if (route().page !== page) return; // the reader went elsewhere meanwhile
    main.replaceChildren(content);
  } catch (error) {
    if (!tab.key) return;
    main.replaceChildren(h('p', { class: 'error', role: 'alert' }, error.status === 404 ? t('notFound') : `${t('failedToLoad')} ${error.text || ''}`));
  }
  if (options.focus !== false) main.focus();
}

// ---------------------------------------------------------------- sign in

function signInPage(reason) {
  const input = h('input', { id: 'api-key', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true });
  const message = h('p', { class: 'error', role: 'alert', id: 'sign-in-error' }, reason || '');
  const form = h('form', {
    class: 'card signin', onsubmit: async (event) => {
      event.preventDefault();
      message.textContent = '';
      const key = input.value.trim();
      try {
        const project = await api('GET', '/v1/projects/current', undefined, key);
        tab.signIn(key, project);
        input.value = '';
        if (!location.hash) location.hash = '#/overview';
        render();
      } catch (error) {
        message.textContent = error.status === 401 ? t('badKey') : error.status ? error.text : t('unreachable');
        input.select();
      }
    },
  },
  h('h1', {}, t('signInTitle')),
  h('label', { class: 'field', for: 'api-key' }, t('apiKey')), input,
  h('p', { class: 'muted' }, t('signInHelp')),
  message,
  h('button', { type: 'submit' }, t('signIn')));
  return form;
}

// ---------------------------------------------------------------- overview

async function overviewPage() {
  const [integration, summary] = await Promise.all([
    api('GET', projectPath()).catch((error) => { if (error.status === 404) return null; throw error; }),
    api('GET', projectPath('/delivery-summary')),
  ]);
  const integrationCard = h('section', { class: 'card', 'aria-labelledby': 'integration-title' },
    h('h2', { id: 'integration-title' }, t('integration')),
    integration
      ? facts([[t('webhookUrl'), integration.webhookUrl], [t('authType'), integration.authType],
        [t('created'), time(integration.createdAt)], [t('updated'), time(integration.updatedAt)]])
      : h('p', { class: 'empty' }, t('noIntegration'), ' ', h('a', { href: '#/integration' }, t('createIntegration'))));
  const figure = (label, value) => h('div', { class: 'figure' }, h('div', { class: 'value' }, value), h('div', { class: 'label' }, label));
  const healthCard = h('section', { class: 'card', 'aria-labelledby': 'health-title' },
    h('h2', { id: 'health-title' }, t('health')),
    h('div', { class: 'figures' },
      figure(t('queueDepth'), String(summary.queueDepth)),
      figure(t('deliveredHour'), String(summary.lastHour.delivered)),
      figure(t('failedHour'), String(summary.lastHour.failed))),
    facts([[t('oldestPending'), summary.oldestPendingAt ? time(summary.oldestPendingAt) : t('none')],
      [t('lastDelivered'), time(summary.lastDeliveredAt)]]),
    summary.failedTotal > 0 ? h('p', {}, h('a', { href: '#/events?status=failed' }, t('seeFailed', summary.failedTotal))) : null);
  every(REFRESH_MS * 2, async () => { if (route().page === 'overview') render({ focus: false }); });
  return h('div', {}, h('h1', {}, t('overview')), h('div', { class: 'grid' }, integrationCard, healthCard));
}

// ---------------------------------------------------------------- conversations

async function conversationsPage(_, parameters) {
  const filters = { state: parameters.get('state') || '', botId: parameters.get('botId') || '', userId: parameters.get('userId') || '' };
  const [bots, first] = await Promise.all([api('GET', platformPath('/bots')), api('GET', projectPath(`/conversations${query(filters)}`))]);
  const rows = h('tbody');
  const addRows = (conversations) => rows.append(...conversations.map((conversation) => h('tr', {},
    h('td', {}, time(conversation.startAt)),
    h('td', {}, badge(conversation.state)),
    h('td', {}, conversation.User.names || conversation.User.id, h('div', { class: 'muted' }, conversation.User.id)),
    h('td', {}, conversation.Bot.name || conversation.Bot.id),
    h('td', {}, h('a', { href: `#/conversations/${encodeURIComponent(conversation._id)}` }, conversation._id)))));
  addRows(first.conversations);
  let cursor = first.nextCursor;
  const more = h('button', {
    type: 'button', class: 'quiet', hidden: !cursor, onclick: async () => {
      const page = await api('GET', projectPath(`/conversations${query({ ...filters, cursor })}`));
      addRows(page.conversations);
      cursor = page.nextCursor;
      more.hidden = !cursor;
    },
  }, t('loadMore'));
  const stateSelect = h('select', { name: 'state', id: 'filter-state' },
    [['', t('any')], ['active', t('active')], ['closed', t('closed')]].map(([value, label]) => h('option', { value, selected: filters.state === value }, label)));
  const botSelect = h('select', { name: 'botId', id: 'filter-bot' }, h('option', { value: '' }, t('any')),
    bots.map((bot) => h('option', { value: bot.id, selected: filters.botId === bot.id }, bot.name)));
  const userInput = h('input', { name: 'userId', id: 'filter-user', value: filters.userId });
  const form = h('form', {
    class: 'filters', onsubmit: (event) => {
      event.preventDefault();
      location.hash = `#/conversations${query({ state: stateSelect.value, botId: botSelect.value, userId: userInput.value.trim() })}`;
    },
  },
  h('label', { class: 'field', for: 'filter-state' }, t('state'), stateSelect),
  h('label', { class: 'field', for: 'filter-bot' }, t('bot'), botSelect),
  h('label', { class: 'field', for: 'filter-user' }, t('userId'), userInput),
  h('button', { type: 'submit' }, t('apply')));
  const filtered = filters.state || filters.botId || filters.userId;
  const list = first.conversations.length
    ? h('div', {}, h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, [t('started'), t('state'), t('user'), t('bot'), t('conversation')].map((heading) => h('th', { scope: 'col' }, heading)))), rows)), more)
    : h('p', { class: 'empty' }, filtered ? t('noMatches') : t('noConversations'));
  return h('div', {}, h('h1', {}, t('conversations'), ' ', h('span', { class: 'muted' }, `(${t('newest')})`)), form, list);
}

function messageText(message) {
  const content = message.content || {};
  if (message.type === 'text') return content.body ?? '';
  const parts = [`[${message.type}]`, content.url, content.caption, content.filename].filter(Boolean);
  return parts.join(' ');
}

function transcriptItem(message) {
  return h('div', { class: `bubble ${message.direction}`, 'data-message-id': message.id },
    messageText(message), h('span', { class: 'meta' }, `${message.direction} · `, time(message.createdAt)));
}

function eventRows(events) {
  return events.map((event) => h('tr', { 'data-event-id': event.id },
    h('td', {}, time(event.createdAt)),
    h('td', {}, event.eventType),
    h('td', {}, event.destination === 'channel' ? `channel (${event.botId})` : 'panel'),
    h('td', { class: 'status' }, badge(event.status)),
    h('td', {}, String(event.attemptCount)),
    h('td', {}, h('a', { href: `#/events/${encodeURIComponent(event.id)}` }, event.id))));
}

const EVENT_HEADINGS = () => [t('created'), t('type'), t('destination'), t('status'), t('attempts'), t('id')];

async function conversationPage(id) {
  const path = projectPath(`/conversations/${encodeURIComponent(id)}?include=messages`);
  const [conversation, events] = await Promise.all([api('GET', path), api('GET', projectPath(`/events${query({ conversationId: id, limit: 100 })}`))]);
  const transcript = h('div', { class: 'transcript', 'aria-live': 'polite' });
  const shown = new Set();
  const addMessages = (messages) => {
    for (const message of messages) {
      if (shown.has(message.id)) continue;
      shown.add(message.id);
      transcript.append(transcriptItem(message));
    }
  };
  addMessages(conversation.messages || []);
  const empty = h('p', { class: 'empty' }, t('noMessages'));
  empty.hidden = shown.size > 0;
  const eventBody = h('tbody', {}, eventRows(events.events));
  const metadata = Object.entries(conversation.metadata || {});
  const details = facts([
    [t('state'), badge(conversation.state)],
    [t('user'), `${conversation.User.names} (${conversation.User.id})`],
    [t('bot'), `${conversation.Bot.name} (${conversation.Bot.id})`],
    [t('started'), time(conversation.startAt)],
    conversation.endAt ? [t('ended'), time(conversation.endAt)] : null,
    conversation.endedReason ? [t('reason'), conversation.endedReason] : null,
    [t('assignment'), conversation.assignment ? `${conversation.assignment.type}: ${conversation.assignment.target}` : t('none')],
  ]);
  const metadataList = metadata.length
    ? facts(metadata.map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]))
    : h('p', { class: 'muted' }, t('none'));
  every(REFRESH_MS, async () => {
    if (route().id !== id) return;
    const [latest, latestEvents] = await Promise.all([api('GET', path), api('GET', projectPath(`/events${query({ conversationId: id, limit: 100 })}`))]);
    addMessages(latest.messages || []);
    empty.hidden = shown.size > 0;
    eventBody.replaceChildren(...eventRows(latestEvents.events));
  });
  return h('div', {},
    h('p', {}, h('a', { href: '#/conversations' }, `← ${t('conversations')}`)),
    h('h1', {}, `${t('conversation')} ${conversation._id}`),
    h('div', { class: 'grid' },
      h('section', { class: 'card' }, details),
      h('section', { class: 'card' }, h('h2', {}, t('metadata')), metadataList)),
    h('section', { class: 'card' }, h('h2', {}, t('transcript')), transcript, empty),
    h('section', { class: 'card' }, h('h2', {}, t('eventsOfConversation')),
      h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, EVENT_HEADINGS().map((heading) => h('th', { scope: 'col' }, heading)))), eventBody))));
}

// ---------------------------------------------------------------- events

const STATUSES = ['pending', 'delivering', 'delivered', 'failed', 'cancelled', 'held'];

async function eventsPage(_, parameters) {
  const filters = { status: parameters.get('status') || '', conversationId: parameters.get('conversationId') || '' };
  const first = await api('GET', projectPath(`/events${query(filters)}`));
  const rows = h('tbody', {}, eventRows(first.events));
  const known = new Set(first.events.map((event) => event.id));
  let cursor = first.nextCursor;
  const more = h('button', {
    type: 'button', class: 'quiet', hidden: !cursor, onclick: async () => {
      const page = await api('GET', projectPath(`/events${query({ ...filters, cursor })}`));
      for (const event of page.events) known.add(event.id);
      rows.append(...eventRows(page.events));
      cursor = page.nextCursor;
      more.hidden = !cursor;
    },
  }, t('loadMore'));
  // The first page again every few seconds: rows update in place and new events go on top, so
  // the reader's place (scroll, loaded pages) is kept.
  every(REFRESH_MS, async () => {
    if (route().page !== 'events' || route().id) return;
    const latest = await api('GET', projectPath(`/events${query(filters)}`));
    const fresh = [];
    for (const event of latest.events) {
      const row = rows.querySelector(`tr[data-event-id="${CSS.escape(event.id)}"]`);
      if (row) row.replaceWith(...eventRows([event]));
      else if (!known.has(event.id)) { known.add(event.id); fresh.push(event); }
    }
    if (fresh.length) rows.prepend(...eventRows(fresh));
    if (known.size) list.replaceChildren(tableOf(rows), more);
  });
  const statusSelect = h('select', { name: 'status', id: 'filter-status' }, h('option', { value: '' }, t('any')),
    STATUSES.map((status) => h('option', { value: status, selected: filters.status === status }, status)));
  const conversationInput = h('input', { name: 'conversationId', id: 'filter-conversation', value: filters.conversationId });
  const form = h('form', {
    class: 'filters', onsubmit: (event) => {
      event.preventDefault();
      location.hash = `#/events${query({ status: statusSelect.value, conversationId: conversationInput.value.trim() })}`;
    },
  },
  h('label', { class: 'field', for: 'filter-status' }, t('status'), statusSelect),
  h('label', { class: 'field', for: 'filter-conversation' }, t('conversationId'), conversationInput),
  h('button', { type: 'submit' }, t('apply')));
  const tableOf = (body) => h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, EVENT_HEADINGS().map((heading) => h('th', { scope: 'col' }, heading)))), body));
  const filtered = filters.status || filters.conversationId;
  const list = h('div', {}, first.events.length ? [tableOf(rows), more] : h('p', { class: 'empty' }, filtered ? t('noMatches') : t('noEvents')));
  return h('div', {}, h('h1', {}, t('events'), ' ', h('span', { class: 'muted' }, `(${t('newest')})`)), form, bulkRedeliver(), list);
}

/** Counts the failed events created since `since` by paging the log, newest first. */
async function countFailedSince(since) {
  let count = 0;
  let cursor = null;
  do {
    const page = await api('GET', projectPath(`/events${query({ status: 'failed', limit: 200, cursor })}`));
    for (const event of page.events) {
      if (new Date(event.createdAt) < since) return count;
      count += 1;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return count;
}

function bulkRedeliver() {
  const day = new Date(Date.now() - 24 * 3600 * 1000);
  const local = new Date(day.getTime() - day.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  const input = h('input', { type: 'datetime-local', id: 'bulk-since', value: local, required: true });
  const message = h('p', { role: 'status' });
  return h('section', { class: 'card' }, h('h2', {}, t('bulkTitle')),
    h('form', {
      class: 'row', onsubmit: async (event) => {
        event.preventDefault();
        const since = new Date(input.value);
        if (Number.isNaN(since.getTime())) return;
        const count = await countFailedSince(since);
        if (count === 0) { message.textContent = t('bulkNone'); return; }
        if (!(await confirmAction(t('bulkCount', count)))) return;
        try {
          const result = await api('POST', projectPath('/events/redeliver'), { status: 'failed', since: since.toISOString() });
          message.textContent = t('bulkDone', result.count);
        } catch (error) {
          message.textContent = error.text;
        }
      },
    }, h('label', { class: 'field', for: 'bulk-since' }, t('since'), input), h('button', { type: 'submit', id: 'bulk-redeliver' }, t('redeliver'))),
    message);
}

/** The headers the last attempt that sent a request carried: signatures shown, the panel credential hidden. */
function headersSent(attempts) {
  const attempt = [...attempts].reverse().find((candidate) => candidate.requestHeaders);
  if (!attempt) return h('p', { class: 'muted', 'data-headers': '' }, t('noHeaders'));
  return h('div', {}, h('p', { class: 'muted' }, t('headersOf', attempt.number)),
    h('pre', { 'data-headers': '' }, Object.entries(attempt.requestHeaders).map(([name, value]) => `${name}: ${value}`).join('\n')));
}

async function eventPage(id) {
  const event = await api('GET', projectPath(`/events/${encodeURIComponent(id)}`));
  const body = JSON.stringify(event.body, null, 2);
  const attempts = event.attempts || [];
  const redeliverable = event.status === 'delivered' || event.status === 'failed';
  const status = h('span', { id: 'event-status' }, badge(event.status));
  const redeliver = h('button', {
    type: 'button', id: 'redeliver', hidden: !redeliverable, onclick: async () => {
      try {
        await api('POST', projectPath(`/events/${encodeURIComponent(id)}/redeliver`));
        notify(t('redeliverQueued'));
        render({ focus: false });
      } catch (error) {
        notify(error.text);
      }
    },
  }, t('redeliver'));
  const attemptRows = attempts.map((attempt) => h('tr', {},
    h('td', {}, String(attempt.number)),
    h('td', {}, time(attempt.startedAt)),
    h('td', {}, `${attempt.durationMs} ms`),
    h('td', {}, attempt.statusCode !== null ? badge(String(attempt.statusCode)) : badge(attempt.errorClass || '?')),
    h('td', {}, h('code', { class: 'answer' }, (attempt.responseBody || '').slice(0, 600)))));
  if (!['delivered', 'failed', 'cancelled'].includes(event.status)) {
    every(REFRESH_MS / 2, async () => {
      if (route().id !== id) return;
      const latest = await api('GET', projectPath(`/events/${encodeURIComponent(id)}`));
      if (latest.status !== event.status || latest.attemptCount !== event.attemptCount) render({ focus: false });
    });
  }
  return h('div', {},
    h('p', {}, h('a', { href: '#/events' }, `← ${t('events')}`)),
    h('h1', {}, `${t('event')} ${event.id}`),
    h('section', { class: 'card' },
      facts([[t('type'), event.eventType], [t('status'), status], [t('destination'), event.destination === 'channel' ? `channel (${event.botId})` : 'panel'],
        event.conversationId ? [t('conversation'), h('a', { href: `#/conversations/${encodeURIComponent(event.conversationId)}` }, event.conversationId)] : null,
        [t('created'), time(event.createdAt)], [t('attempts'), String(event.attemptCount)],
        event.nextAttemptAt ? [t('nextAttempt'), time(event.nextAttemptAt)] : null,
        event.finishedAt ? [t('finished'), time(event.finishedAt)] : null]),
      h('div', { class: 'row' }, redeliver)),
    h('section', { class: 'card' }, h('h2', {}, t('body'), ' ', copyButton(body)), h('pre', { id: 'event-body' }, body)),
    h('section', { class: 'card' }, h('h2', {}, t('headersSent')), h('p', { class: 'muted' }, t('secretNote')), headersSent(attempts)),
    h('section', { class: 'card' }, h('h2', {}, t('attempts')),
      attempts.length ? table([t('attempt'), t('startedAt'), t('duration'), t('status'), t('answer')], attemptRows) : h('p', { class: 'empty' }, t('noAttempts'))));
}

// ---------------------------------------------------------------- integration

function fieldErrors(form, error) {
  for (const element of form.querySelectorAll('.field-error')) element.remove();
  const messages = error.fieldMessages ? error.fieldMessages() : {};
  let placed = false;
  for (const [field, text] of Object.entries(messages)) {
    const input = form.querySelector(`[name="${CSS.escape(field)}"]`);
    const note = h('span', { class: 'field-error', role: 'alert' }, text);
    if (input) { input.setAttribute('aria-invalid', 'true'); input.after(note); placed = true; } else { form.append(note); placed = true; }
  }
  if (!placed) form.append(h('span', { class: 'field-error', role: 'alert' }, error.text || t('unreachable')));
}

function integrationForm(integration, onSaved) {
  const url = h('input', { name: 'webhookUrl', id: 'webhook-url', type: 'url', value: integration?.webhookUrl || '', required: true, size: 40 });
  const type = h('select', { name: 'authType', id: 'auth-type' },
    ['no_auth', 'bearer', 'api_key', 'basic'].map((value) => h('option', { value, selected: (integration?.authType || 'no_auth') === value }, value)));
  const credential = h('input', { name: 'authorization', id: 'authorization', type: 'password', autocomplete: 'off' });
  const form = h('form', {
    class: 'card', onsubmit: async (event) => {
      event.preventDefault();
      const body = { webhookUrl: url.value.trim(), authType: type.value };
      if (credential.value) body.authorization = credential.value;
      try {
        const saved = await api(integration ? 'PATCH' : 'POST', projectPath(), body);
        credential.value = '';
        onSaved(saved);
      } catch (error) {
        fieldErrors(form, error);
      }
    },
  },
  h('h2', {}, integration ? t('edit') : t('createIntegration')),
  h('label', { class: 'field', for: 'webhook-url' }, t('webhookUrl')), url,
  h('label', { class: 'field', for: 'auth-type' }, t('authType')), type,
  h('label', { class: 'field', for: 'authorization' }, t('credential')), credential,
  h('div', { class: 'row' }, h('button', { type: 'submit', id: 'save-integration' }, integration ? t('save') : t('createIntegration'))));
  return form;
}

async function integrationPage() {
  const integration = await api('GET', projectPath()).catch((error) => { if (error.status === 404) return null; throw error; });
  const secretSlot = h('div');
  const page = h('div', {}, h('h1', {}, t('integration')), secretSlot);
  if (!integration) {
    page.append(h('p', { class: 'empty' }, t('noIntegration')), integrationForm(null, async (created) => {
      await render({ focus: false });
      document.getElementById('main').querySelector('h1').after(secretBox(t('signingSecret'), created.signingSecret));
    }));
    return page;
  }
  const grace = h('input', { type: 'number', id: 'grace', name: 'graceSeconds', min: 0, max: 604800, value: 0 });
  const regenerate = h('form', {
    class: 'card', onsubmit: async (event) => {
      event.preventDefault();
      if (!(await confirmAction(t('regenerateConfirm')))) return;
      try {
        const result = await api('POST', projectPath('/secret/regenerate'), { graceSeconds: Number(grace.value || 0) });
        secretSlot.replaceChildren(secretBox(t('signingSecret'), result.signingSecret));
        secretSlot.scrollIntoView();
      } catch (error) {
        fieldErrors(regenerate, error);
      }
    },
  }, h('h2', {}, t('regenerate')), h('label', { class: 'field', for: 'grace' }, t('grace')), grace,
  h('div', { class: 'row' }, h('button', { type: 'submit', id: 'regenerate' }, t('regenerate'))));
  const remove = h('section', { class: 'card' }, h('h2', {}, t('deleteIntegration')),
    h('button', {
      type: 'button', class: 'danger', id: 'delete-integration', onclick: async () => {
        if (!(await confirmAction(t('deleteConfirm')))) return;
        await api('DELETE', projectPath());
        notify(t('deleted'));
        render();
      },
    }, t('deleteIntegration')));
  page.append(
    h('section', { class: 'card' }, facts([[t('id'), integration.id], [t('webhookUrl'), integration.webhookUrl], [t('authType'), integration.authType],
      [t('created'), time(integration.createdAt)], [t('updated'), time(integration.updatedAt)]])),
    integrationForm(integration, () => { notify(t('saved')); render({ focus: false }); }),
    regenerate, remove);
  return page;
}

// ---------------------------------------------------------------- bots

async function botsPage() {
  const bots = await api('GET', platformPath('/bots'));
  const secretSlot = h('div');
  const rows = bots.map((bot) => {
    const url = h('input', { type: 'url', name: 'channelWebhookUrl', value: bot.channelWebhookUrl || '', 'aria-label': `${t('channelUrl')} ${bot.name}`, size: 32 });
    const form = h('form', {
      class: 'row', onsubmit: async (event) => {
        event.preventDefault();
        await saveChannel(form, bot, url.value.trim() || null);
      },
    }, url, h('button', { type: 'submit' }, t('setUrl')),
    h('button', { type: 'button', class: 'quiet', onclick: () => saveChannel(form, bot, null) }, t('clearUrl')));
    return h('tr', { 'data-bot-id': bot.id }, h('td', {}, bot.name, h('div', { class: 'muted' }, bot.id)),
      h('td', {}, bot.channelWebhookUrl || h('span', { class: 'muted' }, t('noChannel')), form), h('td', {}, time(bot.createdAt)));
  });
  const name = h('input', { name: 'name', id: 'bot-name', required: true });
  const id = h('input', { name: 'id', id: 'bot-id' });
  const channel = h('input', { name: 'channelWebhookUrl', id: 'bot-channel', type: 'url' });
  const create = h('form', {
    class: 'card', onsubmit: async (event) => {
      event.preventDefault();
      const body = { name: name.value.trim() };
      if (id.value.trim()) body.id = id.value.trim();
      if (channel.value.trim()) body.channelWebhookUrl = channel.value.trim();
      try {
        const bot = await api('POST', platformPath('/bots'), body);
        await render({ focus: false });
        document.getElementById('main').querySelector('h1').after(secretBox(`${t('channelSecret')} (${bot.name})`, bot.channelSigningSecret));
      } catch (error) {
        fieldErrors(create, error);
      }
    },
  }, h('h2', {}, t('createBot')),
  h('label', { class: 'field', for: 'bot-name' }, t('name')), name,
  h('label', { class: 'field', for: 'bot-id' }, t('botId')), id,
  h('label', { class: 'field', for: 'bot-channel' }, t('channelUrl')), channel,
  h('div', { class: 'row' }, h('button', { type: 'submit', id: 'create-bot' }, t('createBot'))));
  return h('div', {}, h('h1', {}, t('bots')), secretSlot,
    bots.length ? h('section', { class: 'card' }, table([t('bot'), t('channelUrl'), t('created')], rows)) : h('p', { class: 'empty' }, t('noBots')),
    create);
}

async function saveChannel(form, bot, url) {
  try {
    await api('PATCH', platformPath(`/bots/${encodeURIComponent(bot.id)}`), { channelWebhookUrl: url });
    notify(t('saved'));
    render({ focus: false });
  } catch (error) {
    fieldErrors(form, error);
  }
}

// ---------------------------------------------------------------- web chat

async function webChatPage(botId) {
  const bots = await api('GET', platformPath('/bots'));
  if (!bots.length) return h('div', {}, h('h1', {}, t('webchat')), h('p', { class: 'empty' }, t('noBotsForChat')));
  const bot = bots.find((candidate) => candidate.id === botId) || bots[0];
  const chooser = h('select', { id: 'webchat-bot', onchange: (event) => { location.hash = `#/webchat/${encodeURIComponent(event.target.value)}`; } },
    bots.map((candidate) => h('option', { value: candidate.id, selected: candidate.id === bot.id }, `${candidate.name} (${candidate.id})`)));
  const path = platformPath(`/bots/${encodeURIComponent(bot.id)}/webchat`);
  let chat = null;
  try {
    chat = await api('GET', path);
  } catch (error) {
    if (error.status !== 404) throw error;
  }
  const secretSlot = h('div');
  const origins = h('textarea', { id: 'webchat-origins', rows: 3, cols: 40 }, (chat?.allowedOrigins || []).join('\n'));
  const start = h('select', { id: 'webchat-start' },
    h('option', { value: 'first_message', selected: chat?.start !== 'button' }, t('firstMessage')),
    h('option', { value: 'button', selected: chat?.start === 'button' }, t('button')));
  const greeting = h('textarea', { id: 'webchat-greeting', rows: 2, cols: 40 }, chat?.greeting || '');
  const identity = h('input', { id: 'webchat-identity', type: 'checkbox', checked: chat?.identityVerification === true });
  const timeout = h('input', { id: 'webchat-timeout', type: 'number', min: 5, max: 3600, value: chat?.agentTimeoutSeconds ?? 60 });
  const form = h('form', {
    class: 'card', onsubmit: async (event) => {
      event.preventDefault();
      const body = {
        allowedOrigins: origins.value.split(/\s+/).filter(Boolean), start: start.value, greeting: greeting.value.trim() || null,
        identityVerification: identity.checked, agentTimeoutSeconds: Number(timeout.value),
      };
      try {
        const saved = await api('PUT', path, body);
        notify(t('saved'));
        await render({ focus: false });
        if (saved.identitySecret) document.getElementById('main').querySelector('h1').after(secretBox(t('identitySecret'), saved.identitySecret));
      } catch (error) {
        fieldErrors(form, error);
      }
    },
  },
  h('label', { class: 'field', for: 'webchat-origins' }, t('allowedOrigins')), origins,
  h('label', { class: 'field', for: 'webchat-start' }, t('startMode')), start,
  h('label', { class: 'field', for: 'webchat-greeting' }, t('greeting')), greeting,
  h('label', { class: 'field inline', for: 'webchat-identity' }, identity, t('identityVerification')),
  h('label', { class: 'field', for: 'webchat-timeout' }, t('agentTimeout')), timeout,
  h('div', { class: 'row' }, h('button', { type: 'submit', id: 'webchat-save' }, chat ? t('save') : t('enableWebchat')),
    chat && h('button', {
      type: 'button', class: 'danger', onclick: async () => {
        if (!await confirmAction(t('disableConfirm'))) return;
        await api('DELETE', path);
        notify(t('disabled'));
        render({ focus: false });
      },
    }, t('disableWebchat')),
    chat?.identityVerification && h('button', {
      type: 'button', class: 'quiet', onclick: async () => {
        const renewed = await api('POST', `${path}/identity-secret`);
        secretSlot.replaceChildren(secretBox(t('identitySecret'), renewed.identitySecret));
      },
    }, t('regenerateIdentity'))));
  const parts = [h('h1', {}, t('webchat')), secretSlot, h('div', { class: 'row' }, h('label', { class: 'field', for: 'webchat-bot' }, t('chooseBot'), chooser))];
  if (!chat) return h('div', {}, parts, h('p', { class: 'empty' }, t('webchatOff')), form);
  const tag = `<script src="${location.origin}${chat.widgetPath}" async></script>`;
  parts.push(h('section', { class: 'card' }, h('p', {}, t('embed')), h('pre', { id: 'webchat-snippet' }, tag), copyButton(tag)), form, sandbox(bot, chat));
  return h('div', {}, parts);
}

/** The web chat of `bot` as a test visitor, beside what was sent to the panel for that visitor. */
function sandbox(bot, chat) {
  const slot = h('div', { class: 'sandbox-frame' });
  const sent = h('ol', { id: 'sandbox-events', class: 'sandbox-events' }, h('li', { class: 'muted' }, t('noEventsYet')));
  let visitor = null;
  window.onmessage = (event) => {
    if (event.origin !== location.origin || !slot.firstChild || event.source !== slot.firstChild.contentWindow) return;
    if (event.data?.relevo === 1 && event.data.type === 'visitor') visitor = String(event.data.userId);
  };
  const refresh = async () => {
    if (!visitor) return;
    const list = await api('GET', projectPath(`/conversations${query({ botId: bot.id, userId: visitor, limit: 3 })}`));
    const events = [];
    for (const conversation of list.conversations) {
      events.push(...(await api('GET', projectPath(`/events${query({ conversationId: conversation._id, limit: 50 })}`))).events);
    }
    const toPanel = events.filter((event) => event.destination === 'panel').sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    if (!toPanel.length) return;
    sent.replaceChildren(...toPanel.map((event) => h('li', { 'data-event-type': event.eventType },
      h('a', { href: `#/events/${encodeURIComponent(event.id)}` }, event.eventType), ' ', badge(event.status), ' ', time(event.createdAt))));
  };
  const open = h('button', {
    type: 'button', id: 'open-sandbox', onclick: () => {
      const src = `${chat.widgetPath.replace(/widget\.js$/, 'frame')}?host=${encodeURIComponent(location.origin)}&open=1&lang=${language}`;
      slot.replaceChildren(h('iframe', { src, title: t('sandbox'), class: 'sandbox-widget' }));
      open.disabled = true;
      every(1500, refresh);
    },
  }, t('openSandbox'));
  return h('section', { class: 'card', id: 'sandbox' }, h('h2', {}, t('sandbox')), h('p', { class: 'muted' }, t('sandboxHelp')), open,
    h('div', { class: 'sandbox' }, slot, h('div', {}, h('h3', {}, t('sentToPanel')), sent)));
}

// ---------------------------------------------------------------- start

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('language').addEventListener('change', (event) => {
    language = WORDS[event.target.value] ? event.target.value : 'en';
    localStorage.setItem(LANGUAGE, language);
    render({ focus: false });
  });
  document.getElementById('sign-out').addEventListener('click', () => {
    tab.signOut();
    location.hash = '';
    render();
  });
  window.addEventListener('hashchange', () => render());
  render({ focus: false });
});
