package samtemplate

import (
	"fmt"
	"strings"
)

// Cors is the CorsConfiguration of the template's HTTP API, as API Gateway applies it.
type Cors struct {
	AllowOrigins     []string
	AllowHeaders     []string
	AllowMethods     []string
	ExposeHeaders    []string
	AllowCredentials bool
	MaxAge           int64
}

// Cors returns the CorsConfiguration of the template's AWS::Serverless::HttpApi with its values
// resolved by r (a parameter r does not list takes its Default: for AllowedOrigins, the local origins).
// It is nil when the API has none.
func (t *Template) Cors(r Resolver) (*Cors, error) {
	for name, res := range t.Resources {
		if res.Type != "AWS::Serverless::HttpApi" {
			continue
		}
		m, ok := res.Properties["CorsConfiguration"].(map[string]any)
		if !ok {
			return nil, nil
		}
		c := &Cors{MaxAge: Int(m, "MaxAge")}
		c.AllowCredentials, _ = m["AllowCredentials"].(bool)
		for key, dst := range map[string]*[]string{"AllowOrigins": &c.AllowOrigins, "AllowHeaders": &c.AllowHeaders,
			"AllowMethods": &c.AllowMethods, "ExposeHeaders": &c.ExposeHeaders} {
			v, err := t.list(m[key], r)
			if err != nil {
				return nil, fmt.Errorf("%s.CorsConfiguration.%s: %w", name, key, err)
			}
			*dst = v
		}
		return c, nil
	}
	return nil, nil
}

// list resolves a list property: a YAML sequence of values, or one value (a !Ref of a
// CommaDelimitedList parameter) that resolves to a comma-separated string. Empty items are dropped.
func (t *Template) list(v any, r Resolver) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	var out []string
	for _, it := range items {
		s, err := t.Resolve(it, r)
		if err != nil {
			return nil, err
		}
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// AllowOrigin is the Access-Control-Allow-Origin an answer to origin carries: origin itself when the
// configuration lists it (or a "https://*"-style scheme wildcard covers it), "*" when it allows every
// origin, "" when origin is not allowed.
func (c *Cors) AllowOrigin(origin string) string {
	for _, o := range c.AllowOrigins {
		switch {
		case o == "*":
			return "*"
		case strings.EqualFold(o, origin):
			return origin
		case strings.HasSuffix(o, "://*") && strings.HasPrefix(strings.ToLower(origin), strings.ToLower(strings.TrimSuffix(o, "*"))):
			return origin
		}
	}
	return ""
}
