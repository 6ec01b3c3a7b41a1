// Command bootstrap creates what a new deployment cannot create through the API: a school and its first
// admin (every staff route needs an admin token). Run it once per school with AWS credentials for the
// account the stack is in:
//
//	go run ./infra/cmd/bootstrap -table <TableName output> -school kmmc -name 昆明传媒学院 -prefixes CUIK,CUK -admin admin
//
// It refuses to overwrite an existing school or staff member, and prints the admin's one-time password,
// which the admin changes at once with PUT /v1/admin/password.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"strings"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"onecard/shared/auth"
	"onecard/shared/school"
	"onecard/shared/staff"
	"onecard/shared/store"
)

func main() {
	table := flag.String("table", "", "the stack's TableName output")
	id := flag.String("school", "", "school id, e.g. kmmc")
	name := flag.String("name", "", "school name, e.g. 昆明传媒学院")
	prefixes := flag.String("prefixes", "", "student-number prefixes, canonical first, e.g. CUIK,CUK")
	admin := flag.String("admin", "admin", "username of the first admin")
	flag.Parse()
	if err := run(*table, *id, *name, *prefixes, *admin); err != nil {
		fmt.Fprintln(os.Stderr, "bootstrap:", err)
		os.Exit(1)
	}
}

func run(table, id, name, prefixes, admin string) error {
	if table == "" || id == "" || name == "" || prefixes == "" {
		return fmt.Errorf("-table, -school, -name and -prefixes are required")
	}
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	s := store.New(dynamodb.NewFromConfig(cfg), table)
	repo := school.Repo{S: s}
	if _, err := repo.Get(ctx, id); err == nil {
		return fmt.Errorf("school %s exists already: change it with PUT /v1/admin/school", id)
	}
	sch := &school.School{ID: id, Name: name, Prefixes: strings.Split(strings.ToUpper(prefixes), ","),
		NightStart: "23:00", NightEnd: "07:00", TimeZone: "Asia/Shanghai"}
	sch.Defaults()
	if err := repo.Put(ctx, sch); err != nil {
		return err
	}
	var existing staff.Member
	if ok, err := s.Get(ctx, store.StaffKey(strings.ToLower(admin)), &existing); err != nil || ok {
		if err == nil {
			err = fmt.Errorf("staff member %s exists already", admin)
		}
		return err
	}
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	password := base64.RawURLEncoding.EncodeToString(b)
	if err := staff.Put(ctx, s, admin, password, id, []string{auth.RoleAdmin, auth.RoleFinance, auth.RoleIT, auth.RoleOps}); err != nil {
		return err
	}
	fmt.Printf("school %s (%s) created; tariffs, night hours and texts: PUT /v1/admin/school\n", id, name)
	fmt.Printf("admin %q one-time password: %s\nchange it now: PUT /v1/admin/password\n", admin, password)
	return nil
}
