package recharge

import "context"

// SetBeforePost makes s run f between Credit's read of the card and its write, to inject a 补卡 there.
func SetBeforePost(s *Service, f func(context.Context, *Order)) { s.beforePost = f }
