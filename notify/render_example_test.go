package notify_test

import (
	"fmt"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/notify"
)

func ExampleTemplates_Render() {
	loc, _ := time.LoadLocation("America/Toronto")
	t, err := notify.New(notify.Config{NameEn: "City of Example", NameFr: "Ville d'Exemple"}, loc)
	if err != nil {
		panic(err)
	}
	r, err := t.Render(notify.Received, i18n.Fr, notify.Data{
		RequestID: "12345", Service: i18n.T("Pothole", "Nid-de-poule"),
		ExpectedDate:   time.Date(2026, 6, 23, 16, 0, 0, 0, loc),
		TrackingURL:    "https://311.example/r/12345",
		UnsubscribeURL: "https://311.example/unsubscribe/TOKEN",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Subject)
	fmt.Print(r.Text)
	// Output:
	// Ville d'Exemple : nous avons reçu votre demande 12345
	// Bonjour,
	//
	// Nous avons reçu votre demande 12345 (Nid-de-poule).
	// Nous prévoyons la traiter d'ici le 23 juin 2026.
	//
	// Suivez son avancement : https://311.example/r/12345
	//
	// Ville d'Exemple
	//
	// --
	// Vous recevez ce message parce que vous avez demandé à être informé de cette demande.
	// Ne plus recevoir ces messages : https://311.example/unsubscribe/TOKEN
}
