package testkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"onecard/infra/apigw"
	"onecard/shared/catalog"
	"onecard/shared/platform"
)

// Env is one test's world: its Deps, clock and the API served over real HTTP.
type Env struct {
	T     testing.TB
	Deps  *platform.Deps
	Clock *Clock
	API   *httptest.Server
}

// New builds an Env with a fresh table and the whole API served on a loopback port.
func New(t testing.TB) *Env {
	t.Helper()
	d, clock := Deps(t)
	srv, err := apigw.New(Template(t), catalog.HTTP, d)
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(srv)
	t.Cleanup(api.Close)
	return &Env{T: t, Deps: d, Clock: clock, API: api}
}

// Resp is an HTTP answer.
type Resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map.
func (r *Resp) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// Decode decodes the body into v.
func (r *Resp) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Code is the error code of an error answer.
func (r *Resp) Code() string {
	m := r.JSON()
	if e, ok := m["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

// Do sends a request; body may be nil, a string/[]byte (sent as is) or a value (sent as JSON).
// headers come in name, value pairs.
func (e *Env) Do(method, path string, body any, headers ...string) *Resp {
	e.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.T.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.API.URL+path, rd)
	if err != nil {
		e.T.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &Resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

// Bearer returns the Authorization header pair for token.
func Bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// Expect fails the test unless r has status (and, when code is not empty, that error code).
func (r *Resp) Expect(t testing.TB, status int, code string) *Resp {
	t.Helper()
	if r.Status != status || (code != "" && r.Code() != code) {
		t.Fatalf("want %d %s, got %d %s", status, code, r.Status, r.Body)
	}
	if status >= 400 && r.Code() == "" {
		t.Fatalf("error answer without the documented error shape: %s", r.Body)
	}
	return r
}

// Burst sends n requests at the same instant (each built by send(i), released together by one barrier)
// and returns the answers in order: the way an attacker races a limit.
func (e *Env) Burst(n int, send func(i int) *Resp) []*Resp {
	out := make([]*Resp, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = send(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// Tally counts answers by "status code" ("200 ", "401 BAD_CREDENTIALS", ...).
func Tally(rs []*Resp) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		m[fmt.Sprintf("%d %s", r.Status, r.Code())]++
	}
	return m
}
