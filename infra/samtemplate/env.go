package samtemplate

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Resolver gives intrinsic functions their values outside CloudFormation: the local stack's table name
// for !Ref Table, its queue URL for !Ref ReaderQueue, a local secret for a {{resolve:secretsmanager:…}}.
type Resolver struct {
	// Refs maps a LogicalId, a parameter or a pseudo parameter (AWS::Region) to what !Ref gives.
	// A parameter not listed here takes its Default, as `sam local invoke` does.
	Refs map[string]string
	// Attrs maps "LogicalId.Attribute" to what !GetAtt gives.
	Attrs map[string]string
	// Secret returns the value under key in the JSON of Secrets Manager secret name.
	Secret func(name, key string) (string, error)
}

// Environment returns the variables template.yaml gives function name: the Globals'
// Function.Environment.Variables overlaid with the function's own, every value resolved by r. With name
// "", only the Globals'.
func (t *Template) Environment(name string, r Resolver) (map[string]string, error) {
	res, ok := t.Resources[name]
	if name != "" && (!ok || res.Type != "AWS::Serverless::Function") {
		return nil, fmt.Errorf("template has no function %s", name)
	}
	raw := map[string]any{}
	g, _ := t.Globals["Function"].(map[string]any)
	for _, props := range []map[string]any{g, res.Properties} {
		env, _ := props["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		for k, v := range vars {
			raw[k] = v
		}
	}
	out := make(map[string]string, len(raw))
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, err := t.Resolve(raw[k], r)
		if err != nil {
			return nil, fmt.Errorf("%s: environment %s: %w", name, k, err)
		}
		out[k] = v
	}
	return out, nil
}

// Settings returns a function's timeout (seconds) and memory (MB), Globals overlaid with its own.
func (t *Template) Settings(name string) (timeout, memory int64) {
	timeout, memory = 3, 128 // CloudFormation's defaults
	g, _ := t.Globals["Function"].(map[string]any)
	for _, props := range []map[string]any{g, t.Resources[name].Properties} {
		if v := Int(props, "Timeout"); v > 0 {
			timeout = v
		}
		if v := Int(props, "MemorySize"); v > 0 {
			memory = v
		}
	}
	return timeout, memory
}

// Resolve evaluates a property value (a scalar, !Ref, !Sub, !GetAtt or !Join) to a string.
func (t *Template) Resolve(v any, r Resolver) (string, error) {
	switch x := v.(type) {
	case string:
		return t.dynamicRefs(x, r)
	case int64, bool:
		return fmt.Sprint(x), nil
	case map[string]any:
		if len(x) != 1 {
			return "", fmt.Errorf("not a value: %v", x)
		}
		for fn, arg := range x {
			switch fn {
			case "Ref":
				return t.ref(fmt.Sprint(arg), r)
			case "Fn::GetAtt":
				return t.getAtt(arg, r)
			case "Fn::Sub":
				return t.sub(arg, r)
			case "Fn::Join":
				return t.join(arg, r)
			}
			return "", fmt.Errorf("%s is not supported locally", fn)
		}
	}
	return "", fmt.Errorf("not a value: %v", v)
}

func (t *Template) ref(name string, r Resolver) (string, error) {
	if v, ok := r.Refs[name]; ok {
		return v, nil
	}
	if p, ok := t.Parameters[name].(map[string]any); ok {
		if d, ok := p["Default"]; ok {
			return fmt.Sprint(d), nil
		}
		return "", fmt.Errorf("parameter %s has no Default and no local value", name)
	}
	return "", fmt.Errorf("!Ref %s has no local value", name)
}

func (t *Template) getAtt(arg any, r Resolver) (string, error) {
	var key string
	switch a := arg.(type) {
	case string:
		key = a
	case []any:
		if len(a) == 2 {
			key = fmt.Sprint(a[0]) + "." + fmt.Sprint(a[1])
		}
	}
	if v, ok := r.Attrs[key]; ok {
		return v, nil
	}
	return "", fmt.Errorf("!GetAtt %s has no local value", key)
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

func (t *Template) sub(arg any, r Resolver) (string, error) {
	var (
		s    string
		vars = map[string]any{}
	)
	switch a := arg.(type) {
	case string:
		s = a
	case []any:
		if len(a) != 2 {
			return "", fmt.Errorf("!Sub takes a string or [string, variables]")
		}
		s = fmt.Sprint(a[0])
		vars, _ = a[1].(map[string]any)
	default:
		return "", fmt.Errorf("!Sub takes a string")
	}
	var firstErr error
	out := subVar.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		var (
			v   string
			err error
		)
		switch {
		case vars[name] != nil:
			v, err = t.Resolve(vars[name], r)
		case strings.Contains(name, ".") && !strings.HasPrefix(name, "AWS::"):
			v, err = t.getAtt(name, r)
		default:
			v, err = t.ref(name, r)
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return v
	})
	if firstErr != nil {
		return "", firstErr
	}
	return t.dynamicRefs(out, r)
}

func (t *Template) join(arg any, r Resolver) (string, error) {
	a, ok := arg.([]any)
	if !ok || len(a) != 2 {
		return "", fmt.Errorf("!Join takes [delimiter, list]")
	}
	items, _ := a[1].([]any)
	parts := make([]string, 0, len(items))
	for _, it := range items {
		v, err := t.Resolve(it, r)
		if err != nil {
			return "", err
		}
		parts = append(parts, v)
	}
	return strings.Join(parts, fmt.Sprint(a[0])), nil
}

var dynamicRef = regexp.MustCompile(`\{\{resolve:([a-z-]+):([^}]*)\}\}`)

// dynamicRefs replaces CloudFormation dynamic references; only Secrets Manager ones are known locally.
func (t *Template) dynamicRefs(s string, r Resolver) (string, error) {
	var firstErr error
	out := dynamicRef.ReplaceAllStringFunc(s, func(m string) string {
		sm := dynamicRef.FindStringSubmatch(m)
		if sm[1] != "secretsmanager" {
			firstErr = fmt.Errorf("{{resolve:%s:…}} is not supported locally", sm[1])
			return ""
		}
		// secret-id:SecretString:json-key:version-stage:version-id; the secret id may itself be an ARN.
		parts := strings.Split(sm[2], ":SecretString:")
		if len(parts) != 2 || r.Secret == nil {
			firstErr = fmt.Errorf("%s: only secret-id:SecretString:json-key references are supported locally", m)
			return ""
		}
		key, _, _ := strings.Cut(parts[1], ":")
		v, err := r.Secret(parts[0], key)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return v
	})
	return out, firstErr
}
