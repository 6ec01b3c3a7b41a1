// Package apidoc reads docs/api/openapi.yaml, the OpenAPI 3.1 description of every HTTP route, into the
// few parts its test holds against shared/catalog: operations, their security, parameters and responses.
package apidoc

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// File is where the document lives, relative to the repository root.
const File = "docs/api/openapi.yaml"

// Doc is the part of an OpenAPI document this package reads.
type Doc struct {
	OpenAPI    string                          `yaml:"openapi"`
	Security   []map[string][]string           `yaml:"security"`
	Paths      map[string]map[string]yaml.Node `yaml:"paths"`
	Components Components                      `yaml:"components"`
}

// Components holds the reusable parts that operations refer to with $ref.
type Components struct {
	SecuritySchemes map[string]yaml.Node `yaml:"securitySchemes"`
	Parameters      map[string]Parameter `yaml:"parameters"`
	Responses       map[string]Response  `yaml:"responses"`
	Schemas         map[string]yaml.Node `yaml:"schemas"`
}

// Operation is one method of one path.
type Operation struct {
	Method      string                 `yaml:"-"` // upper case, as in a catalog Route
	Path        string                 `yaml:"-"`
	OperationID string                 `yaml:"operationId"`
	Security    *[]map[string][]string `yaml:"security"` // nil when the operation says nothing
	Roles       []string               `yaml:"x-roles"`
	Parameters  []Parameter            `yaml:"parameters"`
	Responses   map[string]Response    `yaml:"responses"`
}

// Route is the operation as a catalog writes it: "METHOD /path".
func (o Operation) Route() string { return o.Method + " " + o.Path }

// Parameter is a parameter or a $ref to one.
type Parameter struct {
	Ref      string `yaml:"$ref"`
	Name     string `yaml:"name"`
	In       string `yaml:"in"`
	Required bool   `yaml:"required"`
}

// Response is a response or a $ref to one. ErrorCodes lists the public error codes it may carry.
type Response struct {
	Ref        string               `yaml:"$ref"`
	Content    map[string]MediaType `yaml:"content"`
	Headers    map[string]yaml.Node `yaml:"headers"`
	ErrorCodes []string             `yaml:"x-error-codes"`
}

// MediaType is the schema of one content type; only a top-level $ref is read.
type MediaType struct {
	Schema struct {
		Ref string `yaml:"$ref"`
	} `yaml:"schema"`
}

// SchemaRef returns the $ref of the JSON schema of the response, or "".
func (r Response) SchemaRef() string { return r.Content["application/json"].Schema.Ref }

var methods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

// Parse reads an OpenAPI document.
func Parse(b []byte) (*Doc, error) {
	var d Doc
	if err := yaml.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Load reads the document of the repository at root (localstack.Root finds it).
func Load(root string) (*Doc, error) {
	b, err := os.ReadFile(filepath.Join(root, File))
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Operations returns every operation, sorted by path then method.
func (d *Doc) Operations() ([]Operation, error) {
	var out []Operation
	for path, item := range d.Paths {
		for key, node := range item {
			if !isMethod(key) {
				continue // summary, parameters, … of the path item
			}
			var op Operation
			if err := node.Decode(&op); err != nil {
				return nil, fmt.Errorf("%s %s: %w", key, path, err)
			}
			op.Method, op.Path = strings.ToUpper(key), path
			out = append(out, op)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out, nil
}

func isMethod(k string) bool {
	for _, m := range methods {
		if k == m {
			return true
		}
	}
	return false
}

// Response resolves a response that may be a $ref to #/components/responses/….
func (d *Doc) Response(r Response) (Response, error) {
	if r.Ref == "" {
		return r, nil
	}
	name, ok := strings.CutPrefix(r.Ref, "#/components/responses/")
	if !ok {
		return r, fmt.Errorf("unsupported response $ref %q", r.Ref)
	}
	c, ok := d.Components.Responses[name]
	if !ok {
		return r, fmt.Errorf("response $ref %q names nothing", r.Ref)
	}
	if c.Ref != "" {
		return r, fmt.Errorf("response %q is itself a $ref", name)
	}
	return c, nil
}

// Parameter resolves a parameter that may be a $ref to #/components/parameters/….
func (d *Doc) Parameter(p Parameter) (Parameter, error) {
	if p.Ref == "" {
		return p, nil
	}
	name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/")
	if !ok {
		return p, fmt.Errorf("unsupported parameter $ref %q", p.Ref)
	}
	c, ok := d.Components.Parameters[name]
	if !ok {
		return p, fmt.Errorf("parameter $ref %q names nothing", p.Ref)
	}
	return c, nil
}
