package notify

import "github.com/pinward/pinward/i18n"

// defaults are the messages pinward ships, in both languages, plain text
// and HTML. A catalog may replace any of them (Config.Templates). The HTML
// is the body only: Render wraps it in a page with the language set and,
// for residents, the unsubscribe footer.
var defaults = map[Kind]Template{
	Received: {
		Subject: i18n.T(
			`{{.Municipality}}: we received your request {{.RequestID}}`,
			`{{.Municipality}} : nous avons reçu votre demande {{.RequestID}}`),
		Text: i18n.T(`Hello,

We received your request {{.RequestID}}{{with .Service}} ({{.}}){{end}}.
{{- with .ExpectedDate}}
We expect to deal with it by {{date .}}.{{end}}

Follow its progress: {{.TrackingURL}}

{{.Municipality}}
`, `Bonjour,

Nous avons reçu votre demande {{.RequestID}}{{with .Service}} ({{.}}){{end}}.
{{- with .ExpectedDate}}
Nous prévoyons la traiter d'ici le {{date .}}.{{end}}

Suivez son avancement : {{.TrackingURL}}

{{.Municipality}}
`),
		HTML: i18n.T(`<p>Hello,</p>
<p>We received your request <strong>{{.RequestID}}</strong>{{with .Service}} ({{.}}){{end}}.
{{- with .ExpectedDate}} We expect to deal with it by {{date .}}.{{end}}</p>
<p><a href="{{.TrackingURL}}">Follow its progress</a></p>
<p>{{.Municipality}}</p>`, `<p>Bonjour,</p>
<p>Nous avons reçu votre demande <strong>{{.RequestID}}</strong>{{with .Service}} ({{.}}){{end}}.
{{- with .ExpectedDate}} Nous prévoyons la traiter d'ici le {{date .}}.{{end}}</p>
<p><a href="{{.TrackingURL}}">Suivez son avancement</a></p>
<p>{{.Municipality}}</p>`),
	},

	Updated: {
		Subject: i18n.T(
			`{{.Municipality}}: update on your request {{.RequestID}}`,
			`{{.Municipality}} : du nouveau sur votre demande {{.RequestID}}`),
		Text: i18n.T(`Hello,

Your request {{.RequestID}}{{with .Service}} ({{.}}){{end}} is now: {{status .Status}}.
{{- with .Note}}

{{.}}{{end}}
{{- with .ExpectedDate}}

Expected by {{date .}}.{{end}}

Follow its progress: {{.TrackingURL}}

{{.Municipality}}
`, `Bonjour,

Votre demande {{.RequestID}}{{with .Service}} ({{.}}){{end}} est maintenant : {{status .Status}}.
{{- with .Note}}

{{.}}{{end}}
{{- with .ExpectedDate}}

Date prévue : {{date .}}.{{end}}

Suivez son avancement : {{.TrackingURL}}

{{.Municipality}}
`),
		HTML: i18n.T(`<p>Hello,</p>
<p>Your request <strong>{{.RequestID}}</strong>{{with .Service}} ({{.}}){{end}} is now: <strong>{{status .Status}}</strong>.</p>
{{- with .Note}}
<blockquote>{{.}}</blockquote>{{end}}
{{- with .ExpectedDate}}
<p>Expected by {{date .}}.</p>{{end}}
<p><a href="{{.TrackingURL}}">Follow its progress</a></p>
<p>{{.Municipality}}</p>`, `<p>Bonjour,</p>
<p>Votre demande <strong>{{.RequestID}}</strong>{{with .Service}} ({{.}}){{end}} est maintenant : <strong>{{status .Status}}</strong>.</p>
{{- with .Note}}
<blockquote>{{.}}</blockquote>{{end}}
{{- with .ExpectedDate}}
<p>Date prévue : {{date .}}.</p>{{end}}
<p><a href="{{.TrackingURL}}">Suivez son avancement</a></p>
<p>{{.Municipality}}</p>`),
	},

	Closed: {
		Subject: i18n.T(
			`{{.Municipality}}: your request {{.RequestID}} is closed`,
			`{{.Municipality}} : votre demande {{.RequestID}} est fermée`),
		Text: i18n.T(`Hello,

Your request {{.RequestID}}{{with .Service}} ({{.}}){{end}} is closed: {{reason .Reason}}{{with .ReferredTo}} ({{.}}){{end}}.
{{- with .Note}}

{{.}}{{end}}

Are you satisfied? Tell us: {{.SatisfactionURL}}
{{- with .ReopenURL}}

If the problem is still there, reopen the request{{with $.ReopenUntil}} until {{date .}}{{end}}: {{.}}{{end}}

{{.Municipality}}
`, `Bonjour,

Votre demande {{.RequestID}}{{with .Service}} ({{.}}){{end}} est fermée : {{reason .Reason}}{{with .ReferredTo}} ({{.}}){{end}}.
{{- with .Note}}

{{.}}{{end}}

Êtes-vous satisfait ? Dites-le-nous : {{.SatisfactionURL}}
{{- with .ReopenURL}}

Si le problème persiste, rouvrez la demande{{with $.ReopenUntil}} d'ici le {{date .}}{{end}} : {{.}}{{end}}

{{.Municipality}}
`),
		HTML: i18n.T(`<p>Hello,</p>
<p>Your request <strong>{{.RequestID}}</strong>{{with .Service}} ({{.}}){{end}} is closed: {{reason .Reason}}{{with .ReferredTo}} ({{.}}){{end}}.</p>
{{- with .Note}}
<blockquote>{{.}}</blockquote>{{end}}
<p><a href="{{.SatisfactionURL}}">Are you satisfied? Tell us</a></p>
{{- with .ReopenURL}}
<p>If the problem is still there, <a href="{{.}}">reopen the request</a>{{with $.ReopenUntil}} until {{date .}}{{end}}.</p>{{end}}
<p>{{.Municipality}}</p>`, `<p>Bonjour,</p>
<p>Votre demande <strong>{{.RequestID}}</strong>{{with .Service}} ({{.}}){{end}} est fermée : {{reason .Reason}}{{with .ReferredTo}} ({{.}}){{end}}.</p>
{{- with .Note}}
<blockquote>{{.}}</blockquote>{{end}}
<p><a href="{{.SatisfactionURL}}">Êtes-vous satisfait ? Dites-le-nous</a></p>
{{- with .ReopenURL}}
<p>Si le problème persiste, <a href="{{.}}">rouvrez la demande</a>{{with $.ReopenUntil}} d'ici le {{date .}}{{end}}.</p>{{end}}
<p>{{.Municipality}}</p>`),
	},

	Reopened: {
		Subject: i18n.T(
			`{{.Municipality}}: your request {{.RequestID}} is reopened`,
			`{{.Municipality}} : votre demande {{.RequestID}} est rouverte`),
		Text: i18n.T(`Hello,

Your request {{.RequestID}}{{with .Service}} ({{.}}){{end}} is reopened and back with the team that handles it.
{{- with .Note}}

{{.}}{{end}}

Follow its progress: {{.TrackingURL}}

{{.Municipality}}
`, `Bonjour,

Votre demande {{.RequestID}}{{with .Service}} ({{.}}){{end}} est rouverte et retourne à l'équipe qui la traite.
{{- with .Note}}

{{.}}{{end}}

Suivez son avancement : {{.TrackingURL}}

{{.Municipality}}
`),
		HTML: i18n.T(`<p>Hello,</p>
<p>Your request <strong>{{.RequestID}}</strong>{{with .Service}} ({{.}}){{end}} is reopened and back with the team that handles it.</p>
{{- with .Note}}
<blockquote>{{.}}</blockquote>{{end}}
<p><a href="{{.TrackingURL}}">Follow its progress</a></p>
<p>{{.Municipality}}</p>`, `<p>Bonjour,</p>
<p>Votre demande <strong>{{.RequestID}}</strong>{{with .Service}} ({{.}}){{end}} est rouverte et retourne à l'équipe qui la traite.</p>
{{- with .Note}}
<blockquote>{{.}}</blockquote>{{end}}
<p><a href="{{.TrackingURL}}">Suivez son avancement</a></p>
<p>{{.Municipality}}</p>`),
	},

	// Escalated goes to staff (a department's contacts), never to
	// residents: no unsubscribe footer, no reporter's details.
	Escalated: {
		Subject: i18n.T(
			`[Escalation level {{.Level}}] Request {{.RequestID}}{{with .Service}} ({{.}}){{end}}{{if .Overdue}}: overdue{{end}}`,
			`[Escalade niveau {{.Level}}] Demande {{.RequestID}}{{with .Service}} ({{.}}){{end}}{{if .Overdue}} : en retard{{end}}`),
		Text: i18n.T(`Request {{.RequestID}}{{with .Service}} ({{.}}){{end}}{{with .Department}}, {{.}}{{end}}{{with .Ward}}, {{.}}{{end}}
{{if .Overdue}}was due{{else}}is due{{end}} {{datetime .DueAt}}{{with .Status}} and is {{status .}}{{end}}.
It reached escalation level {{.Level}}.

Open it: {{.StaffURL}}
`, `La demande {{.RequestID}}{{with .Service}} ({{.}}){{end}}{{with .Department}}, {{.}}{{end}}{{with .Ward}}, {{.}}{{end}}
{{if .Overdue}}était due le{{else}}est due le{{end}} {{datetime .DueAt}}{{with .Status}} et est {{status .}}{{end}}.
Elle a atteint le niveau d'escalade {{.Level}}.

Ouvrez-la : {{.StaffURL}}
`),
		HTML: i18n.T(`<p>Request <strong>{{.RequestID}}</strong>{{with .Service}} ({{.}}){{end}}{{with .Department}}, {{.}}{{end}}{{with .Ward}}, {{.}}{{end}}
{{if .Overdue}}was due{{else}}is due{{end}} {{datetime .DueAt}}{{with .Status}} and is {{status .}}{{end}}.
It reached escalation level <strong>{{.Level}}</strong>.</p>
<p><a href="{{.StaffURL}}">Open it</a></p>`, `<p>La demande <strong>{{.RequestID}}</strong>{{with .Service}} ({{.}}){{end}}{{with .Department}}, {{.}}{{end}}{{with .Ward}}, {{.}}{{end}}
{{if .Overdue}}était due le{{else}}est due le{{end}} {{datetime .DueAt}}{{with .Status}} et est {{status .}}{{end}}.
Elle a atteint le niveau d'escalade <strong>{{.Level}}</strong>.</p>
<p><a href="{{.StaffURL}}">Ouvrez-la</a></p>`),
	},

	// StaffReopened goes to staff (the department's contacts) when a
	// resident reopens a closed request: no unsubscribe footer, nothing
	// of the reporter (their comment is on the request, behind the key).
	StaffReopened: {
		Subject: i18n.T(
			`[Reopened] Request {{.RequestID}}{{with .Service}} ({{.}}){{end}}`,
			`[Rouverte] Demande {{.RequestID}}{{with .Service}} ({{.}}){{end}}`),
		Text: i18n.T(`Request {{.RequestID}}{{with .Service}} ({{.}}){{end}}{{with .Department}}, {{.}}{{end}}, which your team closed, was reopened by the resident who reported it.
It is back in the queue; their comment is in its history.

Open it: {{.StaffURL}}
`, `La demande {{.RequestID}}{{with .Service}} ({{.}}){{end}}{{with .Department}}, {{.}}{{end}}, que votre équipe a fermée, a été rouverte par le résident qui l'a signalée.
Elle est de retour dans la file; son commentaire figure dans l'historique.

Ouvrez-la : {{.StaffURL}}
`),
		HTML: i18n.T(`<p>Request <strong>{{.RequestID}}</strong>{{with .Service}} ({{.}}){{end}}{{with .Department}}, {{.}}{{end}}, which your team closed, was reopened by the resident who reported it.
It is back in the queue; their comment is in its history.</p>
<p><a href="{{.StaffURL}}">Open it</a></p>`, `<p>La demande <strong>{{.RequestID}}</strong>{{with .Service}} ({{.}}){{end}}{{with .Department}}, {{.}}{{end}}, que votre équipe a fermée, a été rouverte par le résident qui l'a signalée.
Elle est de retour dans la file; son commentaire figure dans l'historique.</p>
<p><a href="{{.StaffURL}}">Ouvrez-la</a></p>`),
	},
}

// Access answers a resident who asked, with their request's tracking
// token and their address, for what pinward holds about them: the link
// works once, for a day. It names no one and nothing but the request.
var accessTemplate = Template{
	Subject: i18n.T(
		`{{.Municipality}}: your link to your personal information (request {{.RequestID}})`,
		`{{.Municipality}} : votre lien vers vos renseignements personnels (demande {{.RequestID}})`),
	Text: i18n.T(`Hello,

You asked, with the tracking number of request {{.RequestID}}, for what we hold about you.
Open this link to download it and, if you wish, to ask us to correct or delete it:

{{.AccessURL}}

The link works once, until {{datetime .AccessUntil}}. If you did not ask for it, ignore this message: nothing is shown to anyone without the link.

{{.Municipality}}
`, `Bonjour,

Vous avez demandé, avec le numéro de suivi de la demande {{.RequestID}}, ce que nous détenons à votre sujet.
Ouvrez ce lien pour le télécharger et, si vous le souhaitez, nous demander de le rectifier ou de le supprimer :

{{.AccessURL}}

Le lien fonctionne une seule fois, jusqu'au {{datetime .AccessUntil}}. Si vous n'avez rien demandé, ignorez ce message : rien n'est montré à personne sans le lien.

{{.Municipality}}
`),
	HTML: i18n.T(`<p>Hello,</p>
<p>You asked, with the tracking number of request <strong>{{.RequestID}}</strong>, for what we hold about you.</p>
<p><a href="{{.AccessURL}}">Download it, or ask us to correct or delete it</a></p>
<p>The link works once, until {{datetime .AccessUntil}}. If you did not ask for it, ignore this message: nothing is shown to anyone without the link.</p>
<p>{{.Municipality}}</p>`, `<p>Bonjour,</p>
<p>Vous avez demandé, avec le numéro de suivi de la demande <strong>{{.RequestID}}</strong>, ce que nous détenons à votre sujet.</p>
<p><a href="{{.AccessURL}}">Téléchargez-le, ou demandez-nous de le rectifier ou de le supprimer</a></p>
<p>Le lien fonctionne une seule fois, jusqu'au {{datetime .AccessUntil}}. Si vous n'avez rien demandé, ignorez ce message : rien n'est montré à personne sans le lien.</p>
<p>{{.Municipality}}</p>`),
}

func init() { defaults[Access] = accessTemplate }

// footer closes every message to a resident: why they get it and how to
// stop. It is not replaceable, so no catalog can drop the unsubscribe link.
var footer = Template{
	Text: i18n.T(`
--
You receive this message because you asked to be told about this request.
Stop these messages: {{.UnsubscribeURL}}
`, `
--
Vous recevez ce message parce que vous avez demandé à être informé de cette demande.
Ne plus recevoir ces messages : {{.UnsubscribeURL}}
`),
	HTML: i18n.T(`<hr>
<p style="font-size:small">You receive this message because you asked to be told about this request.
<a href="{{.UnsubscribeURL}}">Stop these messages</a></p>`, `<hr>
<p style="font-size:small">Vous recevez ce message parce que vous avez demandé à être informé de cette demande.
<a href="{{.UnsubscribeURL}}">Ne plus recevoir ces messages</a></p>`),
}
