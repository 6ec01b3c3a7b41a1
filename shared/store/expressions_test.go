package store

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// updateWord finds an update expression (or the start of one) in a string literal: an action keyword
// followed by an attribute name or placeholder, or a bare "SET " that a builder completes. Routes such as
// "DELETE /v1/..." do not match.
var updateWord = regexp.MustCompile(`(^|\s)(SET|ADD|REMOVE|DELETE)\s+([#A-Za-z_]|$)`)

// notMigrated lists where update expressions are still written outside this package (a package
// directory, or one file), with how many literals each holds. The list may only shrink: a literal anywhere
// else fails, and so does a count that differs from the one listed (lower it as literals move to store,
// remove the entry when none is left). shared/cash, shared/reports and shared/wxbill hold none.
var notMigrated = map[string]int{
	// Fixtures and demo data written straight to the table.
	"infra/invoke": 2,
	"infra/seed":   1,
}

// TestUpdateExpressionsLiveInStore keeps the table's update expressions in this package: a domain package
// calls a named operation (SetUserPassword, CardStatusItem, ...) that says what it changes, and only store
// holds the expression strings and the attribute names they write.
func TestUpdateExpressionsLiveInStore(t *testing.T) {
	found := map[string][]string{} // allowlist entry (or file) -> literals
	goSources(t, func(rel string, _ *token.FileSet, f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err == nil && updateWord.MatchString(s) {
				found[entryOf(rel)] = append(found[entryOf(rel)], rel+": "+strconv.Quote(s))
			}
			return true
		})
	})
	entries := make([]string, 0, len(found))
	for e := range found {
		entries = append(entries, e)
	}
	sort.Strings(entries)
	for _, e := range entries {
		if _, listed := notMigrated[e]; !listed {
			t.Errorf("update expressions outside shared/store (make them named operations in store):\n\t%s",
				strings.Join(found[e], "\n\t"))
		}
	}
	for e, allowed := range notMigrated {
		if n := len(found[e]); n != allowed {
			t.Errorf("%s is listed with %d update expression literals and holds %d: set its count in notMigrated (remove the entry at 0); no new ones outside store:\n\t%s",
				e, allowed, n, strings.Join(found[e], "\n\t"))
		}
	}
}

// entryOf is the notMigrated entry that covers the file rel: the file itself when listed, else its
// package directory.
func entryOf(rel string) string {
	if _, ok := notMigrated[rel]; ok {
		return rel
	}
	return filepath.ToSlash(filepath.Dir(rel))
}

// TestReadsLiveInStore keeps the table's reads in this package too: outside it, no Go file (tests
// aside) builds a query or a scan, names a key condition or carries a page's start key. Domain
// packages say what to read with Query or Scan; the attribute names and the paging are here.
func TestReadsLiveInStore(t *testing.T) {
	var found []string
	goSources(t, func(_ string, fset *token.FileSet, f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CompositeLit:
				if sel, ok := x.Type.(*ast.SelectorExpr); ok && (sel.Sel.Name == "QueryInput" || sel.Sel.Name == "ScanInput") {
					found = append(found, fset.Position(x.Pos()).String()+": builds a "+sel.Sel.Name)
				}
			case *ast.KeyValueExpr:
				if id, ok := x.Key.(*ast.Ident); ok && (id.Name == "KeyConditionExpression" || id.Name == "ExclusiveStartKey") {
					found = append(found, fset.Position(x.Pos()).String()+": sets "+id.Name)
				}
			case *ast.AssignStmt:
				for _, l := range x.Lhs {
					if sel, ok := l.(*ast.SelectorExpr); ok && (sel.Sel.Name == "KeyConditionExpression" || sel.Sel.Name == "ExclusiveStartKey") {
						found = append(found, fset.Position(l.Pos()).String()+": sets "+sel.Sel.Name)
					}
				}
			}
			return true
		})
	})
	if len(found) > 0 {
		t.Errorf("table reads built outside shared/store (use store.Query, store.All/Each, Store.Page or Store.ScanEach):\n\t%s",
			strings.Join(found, "\n\t"))
	}
}

// goSources parses every Go file of the repository outside this package, tests aside, and hands each
// to f with its path from the root.
func goSources(t *testing.T, f func(rel string, fset *token.FileSet, file *ast.File)) {
	t.Helper()
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			switch d.Name() {
			case "node_modules", "testdata", "vendor", ".git", ".cache":
				return filepath.SkipDir
			}
			if rel == "shared/store" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, rel, src, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		f(rel, fset, file)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
