package apidoc_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"onecard/infra/apidoc"
	"onecard/infra/localstack"
	"onecard/shared/catalog"
	"onecard/shared/fault"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
)

const errorSchema = "#/components/schemas/Error"

// noRefusals are the routes that refuse nothing (no caller to check, no input to read), so they document
// no 4xx at all.
var noRefusals = map[string]string{
	"SchoolsList": "public, no parameters, no body",
}

// ownErrorShape are the routes whose refusals follow the caller's convention instead of Error.
var ownErrorShape = map[string]string{
	"WeChatNotify":       "#/components/schemas/WeChatPayFailure", // WeChat Pay retries on {"code":"FAIL"}
	"WeChatRefundNotify": "#/components/schemas/WeChatPayFailure", // the same, for refunds
}

func load(t *testing.T) (*apidoc.Doc, map[string]apidoc.Operation) {
	t.Helper()
	root, err := localstack.Root()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := apidoc.Load(root)
	if err != nil {
		t.Fatalf("%s: %v", apidoc.File, err)
	}
	ops, err := doc.Operations()
	if err != nil {
		t.Fatalf("%s: %v", apidoc.File, err)
	}
	byRoute := map[string]apidoc.Operation{}
	for _, op := range ops {
		byRoute[op.Route()] = op
	}
	return doc, byRoute
}

func TestDocumentIsOpenAPI31(t *testing.T) {
	doc, _ := load(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi is %q, want 3.1.x", doc.OpenAPI)
	}
}

// (1) Every catalog route is documented with its method, path and Name as operationId.
func TestEveryRouteIsDocumented(t *testing.T) {
	_, ops := load(t)
	for _, f := range catalog.HTTP {
		op, ok := ops[f.Route]
		if !ok {
			t.Errorf("%s (%s) is not in %s", f.Route, f.Name, apidoc.File)
			continue
		}
		if op.OperationID != f.Name {
			t.Errorf("%s: operationId %q, want the catalog Name %q", f.Route, op.OperationID, f.Name)
		}
	}
}

// (2) Nothing is documented that the catalog does not serve, and operationIds are unique.
func TestNothingElseIsDocumented(t *testing.T) {
	_, ops := load(t)
	seen := map[string]string{}
	for route, op := range ops {
		if _, ok := catalogRoute(route); !ok {
			t.Errorf("%s (%s) is documented but no catalog route serves it", route, op.OperationID)
		}
		if prev, dup := seen[op.OperationID]; dup {
			t.Errorf("operationId %q is used by %s and %s", op.OperationID, prev, route)
		}
		seen[op.OperationID] = route
	}
}

func catalogRoute(route string) (fn.HTTP, bool) {
	for _, f := range catalog.HTTP {
		if f.Route == route {
			return f, true
		}
	}
	return fn.HTTP{}, false
}

// schemeFor is the security scheme a route's access needs ("" for none).
func schemeFor(f fn.HTTP) string {
	switch f.Access {
	case fn.User, fn.SchoolOrUser:
		return "userBearer"
	case fn.Staff:
		return "staffBearer"
	case fn.Signed:
		if strings.HasPrefix(f.Path(), "/v1/payments/") {
			return "wechatpaySignature"
		}
		return "deviceSignature"
	}
	return ""
}

// signedHeaders are the header parameters each signature scheme needs besides its own header.
var signedHeaders = map[string][]string{
	"deviceSignature":    {"X-Device-Id", "X-Timestamp", "X-Nonce"},
	"wechatpaySignature": {"Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial"},
}

// (3) User, Staff and Signed routes declare their scheme (staff routes with the catalog's roles, in the
// requirement and in x-roles); Public routes declare none. A route a school shows before login
// (fn.SchoolOrUser) makes the user's token optional (`security: [{}, {userBearer: []}]`) and documents
// its schoolId query parameter.
func TestSecurityFollowsAccess(t *testing.T) {
	doc, ops := load(t)
	if len(doc.Security) > 0 {
		t.Errorf("the document sets a global security requirement; public routes must not inherit one")
	}
	for _, f := range catalog.HTTP {
		op, ok := ops[f.Route]
		if !ok {
			continue // reported by TestEveryRouteIsDocumented
		}
		want := schemeFor(f)
		var reqs []map[string][]string
		if op.Security != nil {
			reqs = *op.Security
		}
		if want == "" {
			if len(reqs) > 0 {
				t.Errorf("%s is public but declares security %v", f.Name, reqs)
			}
			if len(op.Roles) > 0 {
				t.Errorf("%s is public but declares x-roles %v", f.Name, op.Roles)
			}
			continue
		}
		if _, ok := doc.Components.SecuritySchemes[want]; !ok {
			t.Errorf("components.securitySchemes has no %s", want)
		}
		if f.Access == fn.SchoolOrUser {
			if scopes, ok := optionalScheme(reqs, want); !ok || len(scopes) != 0 {
				t.Errorf("%s: security %v, want [{}, {%s: []}] (the token is optional)", f.Name, reqs, want)
			}
			if !hasParam(t, doc, op, "query", fn.SchoolParam) {
				t.Errorf("%s: needs the query parameter %s", f.Name, fn.SchoolParam)
			}
			continue
		}
		if len(reqs) != 1 || len(reqs[0]) != 1 {
			t.Errorf("%s: security %v, want exactly [{%s: …}]", f.Name, reqs, want)
			continue
		}
		scopes, ok := reqs[0][want]
		if !ok {
			t.Errorf("%s: security %v, want %s", f.Name, reqs, want)
			continue
		}
		var roles []string
		if f.Access == fn.Staff {
			roles = f.Roles
		}
		if !sameSet(scopes, roles) {
			t.Errorf("%s: %s roles %v, want the catalog's %v", f.Name, want, scopes, roles)
		}
		if !sameSet(op.Roles, roles) {
			t.Errorf("%s: x-roles %v, want the catalog's %v", f.Name, op.Roles, roles)
		}
		for _, h := range signedHeaders[want] {
			if !hasParam(t, doc, op, "header", h) {
				t.Errorf("%s: %s needs the header parameter %s", f.Name, want, h)
			}
		}
	}
}

// optionalScheme reads a requirement list of the form [{}, {scheme: scopes}].
func optionalScheme(reqs []map[string][]string, scheme string) ([]string, bool) {
	if len(reqs) != 2 || len(reqs[0]) != 0 || len(reqs[1]) != 1 {
		return nil, false
	}
	scopes, ok := reqs[1][scheme]
	return scopes, ok
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func hasParam(t *testing.T, doc *apidoc.Doc, op apidoc.Operation, in, name string) bool {
	for _, p := range op.Parameters {
		p, err := doc.Parameter(p)
		if err != nil {
			t.Errorf("%s: %v", op.OperationID, err)
			continue
		}
		if p.In == in && strings.EqualFold(p.Name, name) {
			return p.Required || in != "path"
		}
	}
	return false
}

// (4) Every route documents its refusals with the Error schema (at least one 4xx; 401 for a route with
// a caller to check; 403 for a staff route), except the routes that refuse nothing and the one that
// answers in its caller's own shape.
func TestRefusalsUseErrorSchema(t *testing.T) {
	doc, ops := load(t)
	for name := range noRefusals {
		if _, ok := catalog.Find(name); !ok {
			t.Errorf("noRefusals names %s, which is not in the catalog", name)
		}
	}
	for name := range ownErrorShape {
		if _, ok := catalog.Find(name); !ok {
			t.Errorf("ownErrorShape names %s, which is not in the catalog", name)
		}
	}
	for _, f := range catalog.HTTP {
		op, ok := ops[f.Route]
		if !ok {
			continue
		}
		schema := errorSchema
		if s, ok := ownErrorShape[f.Name]; ok {
			schema = s
		}
		refusals := map[string]bool{} // status → uses the schema
		for status, r := range op.Responses {
			if !strings.HasPrefix(status, "4") {
				continue
			}
			r, err := doc.Response(r)
			if err != nil {
				t.Errorf("%s %s: %v", f.Name, status, err)
				continue
			}
			refusals[status] = r.SchemaRef() == schema
			if r.SchemaRef() != schema {
				t.Errorf("%s: response %s does not use %s", f.Name, status, schema)
			}
		}
		if _, none := noRefusals[f.Name]; none {
			if len(refusals) > 0 {
				t.Errorf("%s is listed as refusing nothing but documents %v", f.Name, refusals)
			}
			continue
		}
		if len(refusals) == 0 {
			t.Errorf("%s documents no 4xx response", f.Name)
		}
		if f.Access != fn.Public && !refusals["401"] {
			t.Errorf("%s checks its caller but documents no 401", f.Name)
		}
		if f.Access == fn.Staff && !refusals["403"] {
			t.Errorf("%s is a staff route but documents no 403", f.Name)
		}
	}
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// Every {name} of a path is a required path parameter of its operation, and nothing else is.
func TestPathParameters(t *testing.T) {
	doc, ops := load(t)
	for route, op := range ops {
		var want, got []string
		for _, m := range pathParam.FindAllStringSubmatch(op.Path, -1) {
			want = append(want, m[1])
		}
		for _, p := range op.Parameters {
			p, err := doc.Parameter(p)
			if err != nil {
				t.Errorf("%s: %v", route, err)
				continue
			}
			if p.In == "path" {
				got = append(got, p.Name)
				if !p.Required {
					t.Errorf("%s: path parameter %s is not required", route, p.Name)
				}
			}
		}
		if !sameSet(got, want) {
			t.Errorf("%s: path parameters %v, want %v", route, got, want)
		}
	}
}

// Every error code the document lists (x-error-codes) exists in the code under shared/ with a kind that
// httpapi maps to the status it is listed under, and every Error response lists its codes.
func TestErrorCodesExist(t *testing.T) {
	doc, ops := load(t)
	defined := definedCodes(t)
	check := func(where, status string, r apidoc.Response) {
		if r.SchemaRef() != errorSchema {
			if len(r.ErrorCodes) > 0 {
				t.Errorf("%s %s lists x-error-codes without the Error schema", where, status)
			}
			return
		}
		if len(r.ErrorCodes) == 0 {
			t.Errorf("%s %s uses the Error schema but lists no x-error-codes", where, status)
		}
		for _, code := range r.ErrorCodes {
			statuses, ok := defined[code]
			switch {
			case !ok:
				t.Errorf("%s %s: no fault.E/fault.Field under shared/ defines %s", where, status, code)
			case !statuses[status]:
				t.Errorf("%s %s: %s is answered with %v, not %s", where, status, code, keys(statuses), status)
			}
		}
	}
	for name, r := range doc.Components.Responses {
		for _, status := range statusesOf(t, ops, "#/components/responses/"+name) {
			check("components.responses."+name, status, r)
		}
	}
	for route, op := range ops {
		for status, r := range op.Responses {
			if r.Ref == "" {
				check(route, status, r)
			}
		}
	}
}

// statusesOf returns the statuses under which operations use the component response ref.
func statusesOf(t *testing.T, ops map[string]apidoc.Operation, ref string) []string {
	seen := map[string]bool{}
	for _, op := range ops {
		for status, r := range op.Responses {
			if r.Ref == ref {
				seen[status] = true
			}
		}
	}
	return keys(seen)
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// kinds names fault's kinds as the code writes them.
var kinds = map[string]fault.Kind{
	"Internal": fault.Internal, "Invalid": fault.Invalid, "Unauthenticated": fault.Unauthenticated,
	"Forbidden": fault.Forbidden, "NotFound": fault.NotFound, "Conflict": fault.Conflict, "Rule": fault.Rule,
	"Locked": fault.Locked, "TooMany": fault.TooMany, "Unavailable": fault.Unavailable, "TooLarge": fault.TooLarge,
}

// definedCodes reads every public error the code under shared/ can build — fault.E(kind, "CODE", …),
// fault.Field("CODE", …) and fault.Error{Kind: …, Code: "CODE"} — as code → the HTTP statuses it gets.
func definedCodes(t *testing.T) map[string]map[string]bool {
	t.Helper()
	root, err := localstack.Root()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]bool{}
	add := func(code string, k fault.Kind) {
		if out[code] == nil {
			out[code] = map[string]bool{}
		}
		out[code][strconv.Itoa(httpapi.Status(k))] = true
	}
	kindOf := func(e ast.Expr) (fault.Kind, bool) {
		switch x := e.(type) {
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok && id.Name == "fault" {
				k, ok := kinds[x.Sel.Name]
				return k, ok
			}
		case *ast.Ident:
			k, ok := kinds[x.Name]
			return k, ok
		}
		return 0, false
	}
	str := func(e ast.Expr) (string, bool) {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(lit.Value)
		return s, err == nil
	}
	faultFunc := func(e ast.Expr, pkg string) string {
		switch x := e.(type) {
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok && id.Name == "fault" {
				return x.Sel.Name
			}
		case *ast.Ident:
			if pkg == "fault" {
				return x.Name
			}
		}
		return ""
	}
	fset := token.NewFileSet()
	err = filepath.WalkDir(filepath.Join(root, "shared"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		file, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		pkg := file.Name.Name
		ast.Inspect(file, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CallExpr:
				switch faultFunc(x.Fun, pkg) {
				case "E":
					if len(x.Args) >= 2 {
						k, kok := kindOf(x.Args[0])
						code, cok := str(x.Args[1])
						if kok && cok {
							add(code, k)
						}
					}
				case "Field":
					if len(x.Args) >= 1 {
						if code, ok := str(x.Args[0]); ok {
							add(code, fault.Invalid)
						}
					}
				}
			case *ast.CompositeLit:
				if faultFunc(x.Type, pkg) != "Error" {
					return true
				}
				var k fault.Kind
				var code string
				var kok, cok bool
				for _, el := range x.Elts {
					kv, ok := el.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					switch key, _ := kv.Key.(*ast.Ident); {
					case key == nil:
					case key.Name == "Kind":
						k, kok = kindOf(kv.Value)
					case key.Name == "Code":
						code, cok = str(kv.Value)
					}
				}
				if kok && cok {
					add(code, k)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 50 {
		t.Fatalf("found only %d error codes under shared/: the scan is broken", len(out))
	}
	return out
}
