package testkit

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"testing"
)

// Mail is one message captured by the SES emulator.
type Mail struct {
	MessageID   string `json:"messageId"`
	From        string `json:"from"`
	Subject     string `json:"subject"`
	Destination struct {
		To []string `json:"to"`
	} `json:"destination"`
	Body struct {
		Text string `json:"text"`
	} `json:"body"`
	At int64 `json:"at"`
}

// MailsTo lists what the SES emulator holds for address, oldest first.
func MailsTo(t testing.TB, address string) []Mail {
	t.Helper()
	url := os.Getenv("SES_STORE_URL")
	if url == "" {
		t.Fatal("SES_STORE_URL is not set (run through testkit.Main or make test)")
	}
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var store struct {
		Emails []Mail `json:"emails"`
	}
	if err := json.NewDecoder(res.Body).Decode(&store); err != nil {
		t.Fatal(err)
	}
	var out []Mail
	for _, m := range store.Emails {
		if slices.Contains(m.Destination.To, address) {
			out = append(out, m)
		}
	}
	return out
}

var sixDigits = regexp.MustCompile(`\d{6}`)

// LastCode returns the 6-digit code in the newest mail to address.
func LastCode(t testing.TB, address string) string {
	t.Helper()
	mails := MailsTo(t, address)
	if len(mails) == 0 {
		t.Fatalf("no mail to %s", address)
	}
	c := sixDigits.FindString(mails[len(mails)-1].Body.Text)
	if c == "" {
		t.Fatalf("no code in mail to %s: %q", address, mails[len(mails)-1].Body.Text)
	}
	return c
}
