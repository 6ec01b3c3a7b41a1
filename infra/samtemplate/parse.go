package samtemplate

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is the part of template.yaml the local stack and the tests read.
type Template struct {
	Parameters map[string]any
	Globals    map[string]any
	Resources  map[string]Resource
	Outputs    map[string]any
}

// Resource is one resource with its properties as a generic tree; intrinsic functions appear as
// {"Ref": X}, {"Fn::GetAtt": "X.Attr"}, {"Fn::Sub": ...}.
type Resource struct {
	Type       string
	Properties map[string]any
	Metadata   map[string]any
}

// Load reads root/template.yaml.
func Load(root string) (*Template, error) {
	b, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse reads a SAM template.
func Parse(b []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	tree, ok := convert(&doc).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("template: not a mapping")
	}
	t := &Template{Resources: map[string]Resource{}}
	t.Parameters, _ = tree["Parameters"].(map[string]any)
	t.Globals, _ = tree["Globals"].(map[string]any)
	t.Outputs, _ = tree["Outputs"].(map[string]any)
	res, _ := tree["Resources"].(map[string]any)
	for name, v := range res {
		m, _ := v.(map[string]any)
		r := Resource{}
		r.Type, _ = m["Type"].(string)
		r.Properties, _ = m["Properties"].(map[string]any)
		r.Metadata, _ = m["Metadata"].(map[string]any)
		t.Resources[name] = r
	}
	return t, nil
}

func convert(n *yaml.Node) any {
	switch n.Kind {
	case yaml.DocumentNode:
		return convert(n.Content[0])
	case yaml.AliasNode:
		return convert(n.Alias)
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = convert(n.Content[i+1])
		}
		return tagged(n.Tag, m)
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			s = append(s, convert(c))
		}
		return tagged(n.Tag, s)
	default:
		var v any = n.Value
		switch n.Tag {
		case "!!int":
			if i, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
				v = i
			}
		case "!!bool":
			v = n.Value == "true"
		}
		return tagged(n.Tag, v)
	}
}

func tagged(tag string, v any) any {
	if !strings.HasPrefix(tag, "!") || strings.HasPrefix(tag, "!!") {
		return v
	}
	name := strings.TrimPrefix(tag, "!")
	if name == "Ref" {
		return map[string]any{"Ref": v}
	}
	return map[string]any{"Fn::" + name: v}
}

// Function is one AWS::Serverless::Function as the local stack needs it.
type Function struct {
	Name                    string
	CodeUri                 string
	Method                  string // HttpApi only
	Path                    string
	Queue                   string // SQS trigger: the queue's LogicalId
	Batch                   int64
	Window                  int64
	MaxConcurrency          int64 // ScalingConfig.MaximumConcurrency; 0 when not set
	Schedule                string
	Timeout                 int64
	ReportBatchItemFailures bool
	Actions                 []string
	// SecretResources are the Resource entries of the policy statements that grant secretsmanager
	// actions, unresolved (e.g. a !Sub of the secret's ARN pattern).
	SecretResources []any
}

// Functions lists every function with its trigger.
func (t *Template) Functions() []Function {
	var out []Function
	for name, r := range t.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		f := Function{Name: name, Timeout: 10}
		f.CodeUri, _ = r.Properties["CodeUri"].(string)
		if g, ok := t.Globals["Function"].(map[string]any); ok {
			if v, ok := g["Timeout"].(int64); ok {
				f.Timeout = v
			}
		}
		if v, ok := r.Properties["Timeout"].(int64); ok {
			f.Timeout = v
		}
		evs, _ := r.Properties["Events"].(map[string]any)
		for _, ev := range evs {
			e, _ := ev.(map[string]any)
			p, _ := e["Properties"].(map[string]any)
			switch e["Type"] {
			case "HttpApi":
				f.Method, _ = p["Method"].(string)
				f.Path, _ = p["Path"].(string)
			case "SQS":
				if ga, ok := p["Queue"].(map[string]any)["Fn::GetAtt"].(string); ok {
					f.Queue, _, _ = strings.Cut(ga, ".")
				}
				f.Batch, _ = p["BatchSize"].(int64)
				f.Window, _ = p["MaximumBatchingWindowInSeconds"].(int64)
				if sc, ok := p["ScalingConfig"].(map[string]any); ok {
					f.MaxConcurrency = Int(sc, "MaximumConcurrency")
				}
				if types, ok := p["FunctionResponseTypes"].([]any); ok {
					for _, ty := range types {
						if ty == "ReportBatchItemFailures" {
							f.ReportBatchItemFailures = true
						}
					}
				}
			case "Schedule", "ScheduleV2":
				f.Schedule, _ = p["ScheduleExpression"].(string)
			}
		}
		if pols, ok := r.Properties["Policies"].([]any); ok {
			for _, pol := range pols {
				st, _ := pol.(map[string]any)["Statement"].([]any)
				for _, s := range st {
					acts, _ := s.(map[string]any)["Action"].([]any)
					secrets := false
					for _, a := range acts {
						f.Actions = append(f.Actions, fmt.Sprint(a))
						secrets = secrets || strings.HasPrefix(fmt.Sprint(a), "secretsmanager:")
					}
					if res, ok := s.(map[string]any)["Resource"].([]any); ok && secrets {
						f.SecretResources = append(f.SecretResources, res...)
					}
				}
			}
		}
		out = append(out, f)
	}
	return out
}

// Int reads an integer property.
func Int(m map[string]any, key string) int64 {
	switch v := m[key].(type) {
	case int64:
		return v
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}
