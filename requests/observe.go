package requests

// notify passes a stored request to ServiceConfig.OnChange (tile caches,
// live views) and returns its arguments unchanged, so a store call can be
// wrapped in it: return s.notify(s.cfg.Store.UpdateStatus(...)).
func (s *Service) notify(r Request, err error) (Request, error) {
	if err == nil && s.cfg.OnChange != nil {
		s.cfg.OnChange(r)
	}
	return r, err
}
